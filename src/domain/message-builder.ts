import { isDestroyEvent, type ClaimedRow, type IdType } from './outbox-row';
import { GENESIS_SUFFIX } from './topic-names';
import { messageKey } from './message-key';
import { choosePartition, partitionKeyFromAttribute } from './partitioner';
import { encodeRailsString } from './rails-json';
import { encodeRecordJson, recordAttribute, recordHas, type RecordData, type SerializedRecord } from './record-shape';

/**
 * Message building, pure: from a claimed row and the serialized record to the Kafka messages the
 * gem would have sent (contract §2).
 */

export { buildRecord, type RecordData, type RecordField, type SerializedRecord } from './record-shape';

export interface OutgoingMessage {
  readonly topic: string;
  readonly partition: number;
  readonly key: string;
  /** null = a real Kafka tombstone. */
  readonly value: Buffer | null;
}

export type RowPlan =
  | { readonly kind: 'send'; readonly messages: readonly OutgoingMessage[] }
  /** Nothing to send, row is done (created/updated of a resource that no longer exists). */
  | { readonly kind: 'skip'; readonly reason: string };

export interface RowContext {
  /** What planRow reads of the outbox row (for a dependency's parent: the parent's identity). */
  readonly row: Pick<ClaimedRow, 'resourceClass' | 'resourceId' | 'eventName' | 'partitionKey'>;
  readonly topicName: string;
  readonly genesisReplica: boolean;
  readonly partitionKeyAttribute: string;
  readonly idType: IdType | undefined;
  /** The serialized record, or undefined when the serializer returned no row for this id. */
  readonly record: RecordData | undefined;
  readonly partitionCount: (topic: string) => number;
}

/** The record of a destroyed resource that no longer exists: `{"links":{},"id":<id>}`. */
export function deletedRecord(resourceId: string, idType: IdType | undefined): SerializedRecord {
  return { links: {}, id: typedId(resourceId, idType) };
}

/** An id as the primary key's type prints it: a number for integer keys, a string otherwise. */
export function typedId(resourceId: string, idType: IdType | undefined): unknown {
  const integer = idType === 'integer' || (idType === undefined && /^-?\d{1,19}$/.test(resourceId));
  return integer ? BigInt(resourceId) : resourceId;
}

/**
 * The gem's envelope: one event with one record, `{"message":[{"event":..,"model_name":..,
 * "data":[record]}]}`, the bytes encodeRailsJson gives that whole object.
 */
export function encodeEnvelope(eventName: string, modelName: string, record: RecordData): Buffer {
  const json = `{"message":[{"event":${encodeRailsString(eventName)},"model_name":${encodeRailsString(modelName)},"data":[${encodeRecordJson(record)}]}]}`;
  return Buffer.from(json, 'utf8');
}

/** Decides what one row sends. Throws EncodingError (from the JSON encoder) on unencodable data. */
export function planRow(ctx: RowContext): RowPlan {
  const { row } = ctx;
  let record = ctx.record;
  if (record === undefined) {
    if (!isDestroyEvent(row.eventName)) {
      return { kind: 'skip', reason: `${row.resourceClass} ${row.resourceId} no longer exists; ${row.eventName} is not sent` };
    }
    record = deletedRecord(row.resourceId, ctx.idType);
  }
  const value = encodeEnvelope(row.eventName, row.resourceClass, record);
  const key = messageKey(row.resourceClass, row.resourceId);
  // The gem rebuilds a vanished record from its id alone, so any other attribute is nil → "0".
  const partitionKey =
    ctx.record === undefined && ctx.partitionKeyAttribute !== 'id' && (row.partitionKey === null || row.partitionKey === '')
      ? '0'
      : resolvePartitionKey(row.partitionKey, record, ctx.partitionKeyAttribute);
  const topics = ctx.genesisReplica ? [ctx.topicName, ctx.topicName + GENESIS_SUFFIX] : [ctx.topicName];
  return {
    kind: 'send',
    messages: topics.map((topic) => ({
      topic,
      partition: choosePartition(partitionKey, key, ctx.partitionCount(topic)),
      key,
      value,
    })),
  };
}

/**
 * The row's partition_key when the application wrote one; otherwise the configured attribute of
 * the record cast like the gem does (nil → "0"); null when the record has no such attribute, in
 * which case the message key is hashed (librdkafka's default partitioner in the gem).
 */
export function resolvePartitionKey(rowKey: string | null, record: RecordData, attribute: string): string | null {
  if (rowKey !== null && rowKey !== '') return rowKey;
  return recordHas(record, attribute) ? partitionKeyFromAttribute(recordAttribute(record, attribute)) : null;
}

/**
 * Tombstones for a resource: a real Kafka null value (what compaction honours), or the gem's legacy
 * 4-byte string `null`, with the regular key and partition (to both topics of a replica pair).
 */
export function tombstoneMessages(input: {
  topicName: string;
  genesisReplica: boolean;
  resourceClass: string;
  resourceId: string;
  partitionKey: string | null;
  legacyNullString: boolean;
  partitionCount: (topic: string) => number;
}): OutgoingMessage[] {
  const key = messageKey(input.resourceClass, input.resourceId);
  const topics = input.genesisReplica ? [input.topicName, input.topicName + GENESIS_SUFFIX] : [input.topicName];
  const value = input.legacyNullString ? Buffer.from('null', 'utf8') : null;
  return topics.map((topic) => ({ topic, key, value, partition: choosePartition(input.partitionKey, key, input.partitionCount(topic)) }));
}
