import type { RelationshipConfig, SoftDeleteStrategy } from '../config/sink-types';
import type { ApplyTarget } from './apply-target';
import { eventKind, type EventKind, type SinkEvent } from './envelope';
import { scalarText, type JsonObject, type JsonValue } from './json-value';
import { incomingTime, readRecord, RecordShapeError, type ReadRecord } from './record-reader';

/**
 * From the events of one message to the record operations the gem's Persistor would perform
 * (contract §5, "Applying a record"), in its order, without touching the database:
 * 1. map model_name to a table (unknown: skip the event, or a poison message under strict mapping);
 * 2. a record without an id is skipped;
 * 3. the ordering guard's inputs (incoming time; the stored column is the target's);
 * 4. the columns to set: every attribute that has a column (after renames and the custom synced_*
 *    names), the remote id, the whole attribute hash in synced_data;
 * 5. `*_destroyed` of the aggregate root: keep the received canceled_at, cancel, or delete; any
 *    other event restores (synced_canceled_at = NULL) when the payload has no canceled_at;
 * 7. sideloaded records as records of their own tables with the parent's event (applied only when
 *    the parent was), then pruning of the parent's local records that the payload no longer lists.
 * Events other than created/updated/destroyed go to the inbox.
 */

export type RecordOpKind = 'upsert' | 'delete';

export interface RecordOp {
  /** Position in the gem's sequential order over the whole batch. */
  readonly seq: number;
  readonly message: number;
  readonly target: ApplyTarget;
  /** Table and remote id, for telling operations on one row apart. */
  readonly rowKey: string;
  readonly syncedId: JsonValue;
  readonly kind: RecordOpKind;
  /** Columns to set (upsert), in assignment order. */
  readonly values: ReadonlyMap<string, JsonValue>;
  /** The record's attribute hash (synced_data; most values are its entries). */
  readonly attributes: JsonObject;
  /** No JsonNumber in the message: JSON.stringify writes its values. */
  readonly exactNumbers: boolean;
  /** Cancel: set the soft-delete column to now(), keeping a time already stored. */
  readonly cancelNow: boolean;
  /** The record's updated_at, else created_at (the guard's incoming side), as received. */
  readonly incomingTime: JsonValue;
  /** The operation this one depends on: applied only when the parent was. */
  readonly parent: RecordOp | undefined;
}

export interface PruneOp {
  readonly seq: number;
  readonly message: number;
  readonly parent: RecordOp;
  readonly target: ApplyTarget;
  readonly foreignKey: string;
  readonly mode: 'delete' | 'cancel';
  /** Remote ids of the records the parent lists; every other local record of the parent goes. */
  readonly keep: readonly JsonValue[];
}

export interface InboxEvent {
  readonly message: number;
  readonly eventIndex: number;
  readonly eventName: string;
  readonly modelName: string;
  readonly data: JsonValue;
}

export interface MessagePlan {
  readonly ops: readonly RecordOp[];
  readonly prunes: readonly PruneOp[];
  readonly inbox: readonly InboxEvent[];
  /** Events not persisted (unmapped or ignored model, other events without an inbox). */
  readonly skippedEvents: number;
  /** Records without an id (the gem logs them and goes on). */
  readonly recordsWithoutId: number;
}

/** Where a name maps to: a target, explicitly ignored, or nothing. */
export type Resolution = ApplyTarget | 'ignored' | undefined;

export interface PlanContext {
  readonly resolve: (name: string) => Resolution;
  readonly softDelete: SoftDeleteStrategy;
  readonly strictMapping: boolean;
  readonly inbox: boolean;
  /** Next sequence number (shared over a batch). */
  nextSeq(): number;
}

/** A message that cannot be applied, with a stable code for the dead-letter headers. */
export class PoisonMessageError extends Error {
  constructor(
    readonly code: 'SINK_MESSAGE_INVALID' | 'SINK_MODEL_UNMAPPED',
    message: string,
  ) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

export function planMessage(message: number, events: readonly SinkEvent[], ctx: PlanContext): MessagePlan {
  const plan = { ops: [] as RecordOp[], prunes: [] as PruneOp[], inbox: [] as InboxEvent[], skippedEvents: 0, recordsWithoutId: 0 };
  events.forEach((event, eventIndex) => {
    const kind = eventKind(event.eventName);
    if (kind === 'other') {
      if (ctx.inbox) plan.inbox.push({ message, eventIndex, eventName: event.eventName, modelName: event.modelName, data: event.data });
      else plan.skippedEvents += 1;
      return;
    }
    const target = ctx.resolve(event.modelName);
    if (target === undefined && ctx.strictMapping) {
      throw new PoisonMessageError('SINK_MODEL_UNMAPPED', `model "${event.modelName}" (event ${event.eventName}) has no mapping under models, and strict_mapping is on`);
    }
    if (target === undefined || target === 'ignored') {
      plan.skippedEvents += 1;
      return;
    }
    for (const payload of event.records) {
      let record: ReadRecord;
      try {
        record = readRecord(payload);
      } catch (err) {
        if (err instanceof RecordShapeError) throw new PoisonMessageError('SINK_MESSAGE_INVALID', `${event.modelName} record: ${err.message}`);
        throw err;
      }
      planRecord(record, target, kind, undefined, { message, ctx, plan, exactNumbers: event.exactNumbers });
    }
  });
  return plan;
}

interface Walk {
  readonly message: number;
  readonly exactNumbers: boolean;
  readonly ctx: PlanContext;
  readonly plan: { ops: RecordOp[]; prunes: PruneOp[]; recordsWithoutId: number };
}

function planRecord(record: ReadRecord, target: ApplyTarget, kind: EventKind, parent: { op: RecordOp; rel: RelationshipConfig | undefined } | undefined, walk: Walk): void {
  const attributes = record.attributes;
  const syncedId = attributes['synced_id'] ?? null;
  if (syncedId === null) {
    walk.plan.recordsWithoutId += 1;
    return;
  }
  const root = parent === undefined;
  const decision = destroyDecision(attributes, target, kind, root, walk.ctx.softDelete);
  const values = decision === 'delete' ? new Map<string, JsonValue>() : columnValues(attributes, target, kind);
  const foreignKey = parent?.rel?.foreignKey;
  if (parent !== undefined && foreignKey !== undefined && target.columns.has(foreignKey) && decision !== 'delete') {
    values.set(foreignKey, parent.op.syncedId);
  }
  const op: RecordOp = {
    seq: walk.ctx.nextSeq(),
    message: walk.message,
    target,
    rowKey: rowKey(target.table, syncedId),
    syncedId,
    kind: decision === 'delete' ? 'delete' : 'upsert',
    values,
    attributes,
    exactNumbers: walk.exactNumbers,
    cancelNow: decision === 'cancel',
    incomingTime: incomingTime(attributes),
    parent: parent?.op,
  };
  walk.plan.ops.push(op);
  for (const sideload of record.toMany) {
    if (sideload.records === null) continue;
    const rel = target.mapping.relationships.get(sideload.name);
    const childTarget = walk.ctx.resolve(sideload.name);
    if (childTarget === undefined || childTarget === 'ignored') continue;
    for (const child of sideload.records) planRecord(child, childTarget, kind, { op, rel }, walk);
    if (rel !== undefined && rel.prune !== 'none' && rel.foreignKey !== undefined) {
      const keep = sideload.records.map((r) => r.attributes['synced_id'] ?? null).filter((id) => id !== null);
      walk.plan.prunes.push({ seq: walk.ctx.nextSeq(), message: walk.message, parent: op, target: childTarget, foreignKey: rel.foreignKey, mode: rel.prune, keep });
    }
  }
  for (const sideload of record.toOne) {
    if (sideload.record === null) continue;
    const childTarget = walk.ctx.resolve(sideload.modelName);
    if (childTarget === undefined || childTarget === 'ignored') continue;
    planRecord(sideload.record, childTarget, kind, { op, rel: target.mapping.relationships.get(sideload.name) }, walk);
  }
}

/**
 * Step 5 for the aggregate root of a `*_destroyed` event: a received canceled_at that the table
 * can hold is the whole change (keep); otherwise the cancel strategy sets the soft-delete column,
 * and without one (or with the delete strategy) the row is deleted.
 */
export function destroyDecision(attributes: JsonObject, target: ApplyTarget, kind: EventKind, root: boolean, strategy: SoftDeleteStrategy): 'assign' | 'cancel' | 'delete' {
  if (kind !== 'destroyed' || !root) return 'assign';
  if (Object.hasOwn(attributes, 'synced_canceled_at') && target.canceledColumn !== undefined) return 'assign';
  if (strategy === 'cancel' && target.canceledColumn !== undefined) return 'cancel';
  return 'delete';
}

/** Step 4 (and the restore of step 5): the columns a record sets. */
export function columnValues(attributes: JsonObject, target: ApplyTarget, kind: EventKind): Map<string, JsonValue> {
  const values = new Map<string, JsonValue>();
  const rename = target.mapping.rename;
  for (const key in attributes) {
    const column = rename.get(key) ?? key;
    if (target.columns.has(column)) values.set(column, attributes[key] as JsonValue);
  }
  for (const [key, column] of target.timestampCopies) {
    if (Object.hasOwn(attributes, key)) values.set(column, attributes[key] as JsonValue);
  }
  if (kind !== 'destroyed' && target.canceledColumn !== undefined && !Object.hasOwn(attributes, 'synced_canceled_at')) {
    values.set(target.canceledColumn, null);
  }
  values.set(target.idColumn, attributes['synced_id'] ?? null);
  if (target.dataColumn !== undefined) values.set(target.dataColumn, attributes);
  return values;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A row's identity within a batch: its table and remote id (UUIDs compared case-insensitively). */
export function rowKey(table: string, syncedId: JsonValue): string {
  const text = scalarText(syncedId);
  return `${table}\u0000${UUID.test(text) ? text.toLowerCase() : text}`;
}
