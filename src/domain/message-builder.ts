import type { IdType } from '../config/topics-types';
import { GENESIS_SUFFIX } from '../config/topics-types';
import { isDestroyEvent, type ClaimedRow } from './outbox-row';
import { messageKey } from './message-key';
import { choosePartition, partitionKeyFromAttribute } from './partitioner';
import { encodeRailsJson } from './rails-json';

/**
 * Message building, pure: from a claimed row and the serialized record to the Kafka messages the
 * gem would have sent (contract §2).
 */

/** A column of a serializer's result. `json` columns (json/jsonb) are nested objects. */
export interface RecordField {
  readonly name: string;
  readonly json: boolean;
}

export type SerializedRecord = Record<string, unknown>;

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
  readonly row: ClaimedRow;
  readonly topicName: string;
  readonly genesisReplica: boolean;
  readonly partitionKeyAttribute: string;
  readonly idType: IdType | undefined;
  /** The serialized record, or undefined when the serializer returned no row for this id. */
  readonly record: SerializedRecord | undefined;
  readonly partitionCount: (topic: string) => number;
}

const LINKS = 'links';

/**
 * Builds a record in the gem's key order: attributes in declaration (column) order, then `links`
 * (always present, `{}` by default), then sideloaded relationships (the other json columns).
 */
export function buildRecord(fields: readonly RecordField[], values: readonly unknown[]): SerializedRecord {
  const record: SerializedRecord = {};
  let links: unknown = {};
  const sideloads: Array<[string, unknown]> = [];
  fields.forEach((field, i) => {
    const value = values[i];
    if (field.name === LINKS) links = value ?? {};
    else if (field.json) sideloads.push([field.name, value]);
    else record[field.name] = value;
  });
  record[LINKS] = links;
  for (const [name, value] of sideloads) record[name] = value;
  return record;
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

/** The gem's envelope: one event with one record. */
export function encodeEnvelope(eventName: string, modelName: string, record: SerializedRecord): Buffer {
  return Buffer.from(encodeRailsJson({ message: [{ event: eventName, model_name: modelName, data: [record] }] }), 'utf8');
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
export function resolvePartitionKey(rowKey: string | null, record: SerializedRecord, attribute: string): string | null {
  if (rowKey !== null && rowKey !== '') return rowKey;
  if (!Object.prototype.hasOwnProperty.call(record, attribute)) return null;
  return partitionKeyFromAttribute(record[attribute]);
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
