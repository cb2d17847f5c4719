import type { IdType } from './model-types';
import { isDestroyEvent, type ClaimedRow } from './outbox-row';
import { GENESIS_SUFFIX } from './topic-names';
import { messageKey } from './message-key';
import { rubyStringToI } from './column-types/codec';
import { choosePartition } from './partitioner';
import { encodeRailsString } from './rails-json';
import { RawJson, formatPgNumeric } from './ruby-numbers';
import { encodeRecordJson, recordIdText, recordPartitionKey, type RecordData, type SerializedRecord } from './record-shape';

/**
 * Message building, pure: from a claimed row and the serialized record to the Kafka messages the
 * gem would have sent (contract §2).
 */

export { type RecordData, type SerializedRecord } from './record-shape';

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

/**
 * An id as ActiveRecord casts resource_id to the primary key's type (`Model.new(id: resource_id)`):
 * an Integer (String#to_i) for integer keys, a BigDecimal (a JSON string, `"42.0"`) for numeric
 * keys, the text otherwise. Without a known type, digits alone are taken for an integer.
 */
export function typedId(resourceId: string, idType: IdType | undefined): unknown {
  if (idType === 'decimal') return new RawJson(`"${formatPgNumeric(resourceId.trim()) ?? '0.0'}"`);
  const integer = idType === 'integer' || (idType === undefined && /^-?\d{1,19}$/.test(resourceId));
  return integer ? BigInt(rubyStringToI(resourceId)) : resourceId;
}

// ActiveSupport's String#blank?: empty or only Unicode whitespace ([[:space:]]).
const BLANK = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/;

/** The gem's `outbox_record.partition_key.presence`: the row's key unless it is nil or blank. */
export function presentPartitionKey(rowKey: string | null): string | null {
  return rowKey === null || BLANK.test(rowKey) ? null : rowKey;
}

/**
 * The gem's envelope: one event with one record, `{"message":[{"event":..,"model_name":..,
 * "data":[record]}]}`, the bytes encodeRailsJson gives that whole object.
 */
export function encodeEnvelope(eventName: string, modelName: string, record: RecordData): Buffer {
  const json = `${envelopeHead(eventName, modelName)}${encodeRecordJson(record)}]}]}`;
  return Buffer.from(json, 'utf8');
}

/**
 * The envelope up to the record, `{"message":[{"event":..,"model_name":..,"data":[`, kept per
 * event and model: a relay sends few distinct pairs, each thousands of times. Bounded, so a
 * stream of distinct event names cannot grow it without limit.
 */
const envelopeHeads = new Map<string, string>();
const ENVELOPE_HEADS_MAX = 1024;

function envelopeHead(eventName: string, modelName: string): string {
  const key = `${eventName}\u0000${modelName}`;
  let head = envelopeHeads.get(key);
  if (head === undefined) {
    head = `{"message":[{"event":${encodeRailsString(eventName)},"model_name":${encodeRailsString(modelName)},"data":[`;
    if (envelopeHeads.size >= ENVELOPE_HEADS_MAX) envelopeHeads.clear();
    envelopeHeads.set(key, head);
  }
  return head;
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
  // The gem's key is "<class>:<resource.id>", the id as the record holds it (`42.0` for a numeric key).
  const key = messageKey(row.resourceClass, recordIdText(record) ?? row.resourceId);
  // The gem rebuilds a vanished record from its id alone, so any other attribute is nil → "0".
  const partitionKey =
    ctx.record === undefined && ctx.partitionKeyAttribute !== 'id' && presentPartitionKey(row.partitionKey) === null
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
 * The row's partition_key when the application wrote one (not blank); otherwise the configured
 * attribute of the record cast like the gem does (`to_i.to_s`, nil → "0"); null when the record
 * has no such attribute, in which case the message key is hashed (librdkafka's default
 * partitioner in the gem). Throws Error when Ruby could not cast the attribute.
 */
export function resolvePartitionKey(rowKey: string | null, record: RecordData, attribute: string): string | null {
  return presentPartitionKey(rowKey) ?? recordPartitionKey(record, attribute);
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
