import type { SinkTopicConfig } from '../config/sink-types';
import { RelayError, errorMessage } from '../errors';
import { isInfrastructureError, sqlState } from '../postgres/pg-errors';
import type { Resolution } from './apply-plan';
import { planSegments } from './apply-steps';
import { addTally, applySegments, emptyTally, type ApplyStatements, type ApplyTally } from './batch-applier';
import { inboxEvents, prepareBatch, type ConsumedMessage, type PlannedMessage, type PoisonMessage, type PreparedBatch } from './batch-preparation';
import type { JsonValue } from './json-value';
import type { BatchReport } from './sink-observer';

/**
 * One partition batch, start to end: prepare it (pure), apply it in one transaction, and when a
 * statement fails on the data (a constraint, a value the column refuses), apply it again message
 * by message, each in a savepoint, to single out the messages that fail. Poison messages go to
 * their dead-letter topic before the transaction commits (or stop the partition). The caller
 * commits the offsets once this resolves.
 */

/** The statements of one open transaction (postgres/sink-store.ts implements them). */
export interface BatchTransaction extends ApplyStatements {
  insertInbox(rows: ReadonlyArray<{ topic: string; partition: number; offset: number; eventIndex: number; key: string | null; eventName: string; modelName: string; data: JsonValue }>): Promise<void>;
  savepoint<T>(body: () => Promise<T>): Promise<T>;
}

export interface PartitionBatchDeps {
  transaction<T>(lockKey: string, body: (tx: BatchTransaction) => Promise<T>): Promise<T>;
  /** Sends dead letters and resolves once acknowledged; undefined when no topic dead-letters. */
  readonly deadLetters: { send(letters: ReadonlyArray<{ topic: string; message: ConsumedMessage; code: string; reason: string }>): Promise<void> } | undefined;
  readonly resolve: (name: string) => Resolution;
  readonly inbox: boolean;
  readonly groupId: string;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
}

export interface BatchResult {
  /** Offset to commit: after the batch, or the poison message where the partition stops. */
  readonly nextOffset: number;
  readonly stopped: PoisonMessage | undefined;
  readonly deadLettered: readonly PoisonMessage[];
  readonly report: BatchReport;
}

/** A failure worth applying the batch again for (the database or broker, not the data). */
export function isRetriable(err: unknown): boolean {
  if (err instanceof RelayError) return err.retriable;
  const state = sqlState(err);
  // serialization failure, deadlock, lock timeout, statement timeout (waiting on another writer)
  if (state !== undefined && ['40001', '40P01', '55P03', '57014'].includes(state)) return true;
  // A table or column gone, a privilege revoked: the schema changed under the sink, which every
  // message would hit; retrying (and saying so) loses nothing, dead-lettering would lose them all.
  if (state !== undefined && (state.startsWith('42') || state.startsWith('0A'))) return true;
  return isInfrastructureError(err);
}

export async function applyPartitionBatch(messages: readonly ConsumedMessage[], topic: SinkTopicConfig, deps: PartitionBatchDeps): Promise<BatchResult> {
  const first = messages[0] as ConsumedMessage;
  const last = messages[messages.length - 1] as ConsumedMessage;
  const started = deps.now();
  const prepared = prepareBatch(messages, { topic, resolve: deps.resolve, inbox: deps.inbox, nowMicros: started * 1000 });
  const lockKey = `dionysus-sink:${deps.groupId}:${first.topic}:${first.partition}`;
  let outcome: { tally: ApplyTally; planned: readonly PlannedMessage[]; poison: readonly PoisonMessage[]; stopAt: PoisonMessage | undefined };
  try {
    outcome = await deps.transaction(lockKey, async (tx) => {
      const tally = await applySegments(prepared.segments, tx);
      await tx.insertInbox(inboxRows(prepared.planned));
      await sendDeadLetters(prepared.poison, topic, deps);
      return { tally, planned: prepared.planned, poison: prepared.poison, stopAt: prepared.stopAt };
    });
  } catch (err) {
    if (isRetriable(err)) throw err;
    outcome = await deps.transaction(lockKey, (tx) => applyOneByOne(prepared, topic, tx, deps));
  }
  const stopAt = outcome.stopAt;
  const committed = stopAt === undefined ? messages : messages.filter((m) => m.offset < stopAt.message.offset);
  const finished = deps.now();
  return {
    nextOffset: stopAt === undefined ? last.offset + 1 : stopAt.message.offset,
    stopped: stopAt,
    deadLettered: outcome.poison,
    report: {
      topic: first.topic,
      partition: first.partition,
      messages: committed.length - outcome.poison.length,
      tally: outcome.tally,
      duplicates: prepared.duplicates,
      tombstones: prepared.tombstones,
      skippedEvents: outcome.planned.reduce((n, p) => n + p.plan.skippedEvents, 0),
      inboxEvents: outcome.planned.reduce((n, p) => n + p.plan.inbox.length, 0),
      applySeconds: (finished - started) / 1000,
      ageSeconds: committed.filter((m) => m.timestamp !== undefined && m.timestamp > 0).map((m) => Math.max(0, (finished - (m.timestamp as number)) / 1000)),
    },
  };
}

/** The slow path: each message in a savepoint; those whose statements fail are poison messages. */
async function applyOneByOne(
  prepared: PreparedBatch,
  topic: SinkTopicConfig,
  tx: BatchTransaction,
  deps: PartitionBatchDeps,
): Promise<{ tally: ApplyTally; planned: readonly PlannedMessage[]; poison: readonly PoisonMessage[]; stopAt: PoisonMessage | undefined }> {
  const tally = emptyTally();
  const planned: PlannedMessage[] = [];
  const failed: PoisonMessage[] = [];
  for (const p of prepared.planned) {
    try {
      const t = await tx.savepoint(async () => {
        const result = await applySegments(planSegments(p.plan.ops, p.plan.prunes), tx);
        await tx.insertInbox(inboxRows([p]));
        return result;
      });
      addTally(tally, t);
      planned.push(p);
    } catch (err) {
      if (isRetriable(err)) throw err;
      failed.push({ message: p.message, code: 'SINK_APPLY_FAILED', reason: describeFailure(err) });
      if (topic.onPoison === 'stop') break;
    }
  }
  if (topic.onPoison === 'stop') {
    const stopAt = [...failed, ...(prepared.stopAt === undefined ? [] : [prepared.stopAt])].sort((a, b) => a.message.offset - b.message.offset)[0];
    return { tally, planned, poison: [], stopAt };
  }
  const poison = [...prepared.poison, ...failed];
  await sendDeadLetters(poison, topic, deps);
  return { tally, planned, poison, stopAt: undefined };
}

async function sendDeadLetters(poison: readonly PoisonMessage[], topic: SinkTopicConfig, deps: PartitionBatchDeps): Promise<void> {
  if (poison.length === 0 || topic.onPoison !== 'dead_letter' || topic.deadLetterTopic === undefined) return;
  if (deps.deadLetters === undefined) throw new RelayError('SINK_DEAD_LETTER_FAILED', 'no dead-letter producer', { retriable: true });
  const to = topic.deadLetterTopic;
  await deps.deadLetters.send(poison.map((p) => ({ topic: to, message: p.message, code: p.code, reason: p.reason })));
}

function inboxRows(planned: readonly PlannedMessage[]): Parameters<BatchTransaction['insertInbox']>[0] {
  return inboxEvents(planned).map(({ message, event }) => ({
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    eventIndex: event.eventIndex,
    key: message.key,
    eventName: event.eventName,
    modelName: event.modelName,
    data: event.data,
  }));
}

/** The database's words, with its SQLSTATE and detail (what a dead letter's header carries). */
function describeFailure(err: unknown): string {
  const e = err as { code?: string; detail?: string; table?: string; column?: string; constraint?: string };
  const parts = [errorMessage(err)];
  if (e.detail) parts.push(`detail: ${e.detail}`);
  if (e.constraint) parts.push(`constraint: ${e.constraint}`);
  if (e.table) parts.push(`table: ${e.table}${e.column ? `.${e.column}` : ''}`);
  const state = sqlState(err);
  return state === undefined ? parts.join('; ') : `SQLSTATE ${state}: ${parts.join('; ')}`;
}
