import { OBSERVER_TOPIC, type TopicConfig } from '../config/topics-types';
import type { OutgoingMessage } from '../domain/message-builder';
import { coalesceRows } from '../domain/coalesce';
import { keyHeads } from '../domain/strict-order';
import { decideRetry } from '../domain/retry-schedule';
import { RelayError, errorMessage } from '../errors';
import type { DeliveryOutcome } from '../kafka/publisher';
import type { ClaimedRow } from '../domain/outbox-row';
import type { TrackedBatch } from '../postgres/crash-tracker';
import type { ClaimedBatch, FailureMark } from '../postgres/outbox-store';
import { guardInstance, loadAndPlan, resolveOwnTargets, targetKeys, type LockOutcome } from './batch-planning';
import type { BatchDeps, RowWork } from './batch-work';
import { safely, type BatchPhase, type RelayObserver } from './relay-observer';

export type { BatchDeps } from './batch-work';


export interface BatchResult {
  readonly claimed: number;
  readonly published: number;
  readonly failed: number;
  readonly givenUp: number;
  /** Rows left pending without an attempt counted (broker trouble during delivery). */
  readonly released: number;
  /**
   * Rows claimed but left for a later batch: a crash suspect is published alone, and a strict
   * topic publishes only its keys' heads.
   */
  readonly deferred?: number;
  /** Rows left pending because a frozen relay may still send their resources (RESOURCE_HELD). */
  readonly held?: number;
}

const EMPTY: BatchResult = { claimed: 0, published: 0, failed: 0, givenUp: 0, released: 0 };


/**
 * One batch, start to end: claim → load → build → enqueue → await delivery reports → mark →
 * commit. A row's failure is recorded on that row only; an infrastructure failure abandons the
 * batch (rollback: its rows become claimable again, nothing is counted against them).
 */
export async function runBatch(deps: BatchDeps, topic: TopicConfig, onClaimed: () => void = () => undefined): Promise<BatchResult> {
  const timer = phaseTimer(deps.observer);
  let batch: ClaimedBatch | null;
  try {
    batch = await deps.store.claim(topic.name, deps.batchSize, deps.publishDelayMs, {
      strict: topic.ordering === 'strict',
      changeset: needsChangeset(topic),
      changesetValues: [...topic.dependencies.values()].flat().flatMap((d) => (d.parentFromChangeset === undefined ? [] : [d.parentFromChangeset])),
    });
  } finally {
    // Liveness counts attempts, not successes: a loop that keeps trying while Postgres is down is
    // alive (readiness reports the outage); only a wedged loop stops reporting.
    safely(() => deps.observer.claimFinished(topic.name));
  }
  timer('claim');
  if (batch !== null) safely(() => deps.observer.batchClaimed(topic.name, batch.rows.length));
  if (batch === null) return EMPTY;
  onClaimed();
  let tracked: TrackedBatch | undefined;
  let publishedSuspects: string[] = [];
  // From claim to marks the claim session may sit idle for long (broker metadata, delivery
  // reports during a Kafka outage): keep it alive, so that only a dead or frozen relay loses its
  // locks.
  const stopKeepAlive = batch.keepAlive(deps.claimKeepAliveMs);
  try {
    // A strict topic works only on its keys' heads; the other claimed rows are left alone, so they
    // are not registered as in flight either (a crash must not count against them).
    const rows = topic.ordering === 'strict' ? keyHeads(batch.rows, await batch.strictPending(topic.name)) : batch.rows;
    const { work, locked } = await register(deps, topic, batch, rows, (entry) => (tracked = entry));
    // No process-wide lock around load → enqueue: a resource's advisory lock, held from before its
    // state is read until the marks commit (after delivery), already keeps every other batch, of
    // this process or another, from reading and sending it in between. So batches load at once.
    await loadAndPlan(deps, topic, work, batch, tracked, locked);
    timer('load');
    if (batch.sessionMayBeLost(deps.idleInTransactionTimeoutMs)) {
      throw new RelayError('POSTGRES_UNAVAILABLE', 'the claim session was silent past idle_in_transaction_session_timeout (process frozen?): batch abandoned before sending', {
        retriable: true,
        context: { topic: topic.name },
      });
    }
    const messages: OutgoingMessage[] = [];
    for (const w of work) {
      w.first = messages.length;
      messages.push(...w.messages);
    }
    const { settled } = await deps.publisher.enqueueAll(messages);
    const outcomes = await isolateTooLarge(deps, work, await settled);
    timer('produce');
    stopKeepAlive();
    const result = await mark(deps, topic, batch, work, outcomes);
    await batch.commit();
    timer('mark');
    publishedSuspects = work.filter((w) => tracked?.suspects.has(w.row.id) === true).map((w) => w.row.id);
    return { ...result, deferred: batch.rows.length - work.length };
  } catch (err) {
    await batch.abandon(err);
    safely(() => deps.observer.batchAbandoned(topic.name, errorMessage(err)));
    throw err;
  } finally {
    stopKeepAlive();
    // Not awaited: the next claim need not wait for this bookkeeping (end() never rejects; a
    // failed deletion is retried with the next batch's).
    void deps.crashTracker.end(tracked, publishedSuspects);
  }
}

interface RegisteredWork {
  /** The rows worked on: every row, or a crash suspect alone. */
  readonly work: RowWork[];
  /** The resource locks' outcome when they were taken with the registration. */
  readonly locked: LockOutcome | undefined;
}

/**
 * Registers the rows as in flight before anything is loaded, so that a row crashing this process
 * is counted. When every row publishes only itself, its resources are known already: the resource
 * locks are taken on the claim connection while the registration (with the keys) is written, one
 * round trip instead of two. Otherwise the locks come after the targets are resolved (loadAndPlan).
 * `onTracked` gets the entry as soon as it exists, even when the locks then fail: the caller must
 * end it, or the frozen-relay guard of other relays would hold its resources while this one lives.
 */
async function register(
  deps: BatchDeps,
  topic: TopicConfig,
  batch: ClaimedBatch,
  rows: readonly ClaimedRow[],
  onTracked: (tracked: TrackedBatch | undefined) => void,
): Promise<RegisteredWork> {
  let work = workOn(topic, rows);
  let locked: LockOutcome | undefined;
  let tracked: TrackedBatch | undefined;
  const ids = rows.map((r) => r.id);
  if (resolveOwnTargets(topic, work)) {
    const keys = targetKeys(work);
    const [entry, locks] = await Promise.allSettled([deps.crashTracker.begin(ids, batch.claimXid, keys), batch.lockResources(keys, guardInstance(deps))]);
    if (entry.status === 'fulfilled') onTracked((tracked = entry.value));
    if (entry.status === 'rejected') throw entry.reason;
    if (locks.status === 'rejected') throw locks.reason;
    locked = locks.value;
  } else {
    onTracked((tracked = await deps.crashTracker.begin(ids, batch.claimXid)));
  }
  const suspect = tracked === undefined ? undefined : rows.find((r) => tracked?.suspects.has(r.id));
  if (tracked !== undefined && suspect !== undefined) {
    // A row that was in flight when a relay died is published alone, so that if it kills this
    // process too, only its own crash count grows. The other rows stay pending (locks released
    // at commit, nothing marked) for the next batch.
    work = workOn(topic, [suspect]);
    if (locked !== undefined) resolveOwnTargets(topic, work);
    await deps.crashTracker.narrow(tracked, [suspect.id], locked === undefined ? undefined : targetKeys(work));
    deps.logger.warn({ row: suspect.id, topic: topic.name, resource: `${suspect.resourceClass}:${suspect.resourceId}` }, 'publishing a crash suspect alone');
  }
  return { work, locked };
}

/** The rows worked on, with duplicate coalescing applied when the topic asks for it. */
function workOn(topic: TopicConfig, rows: readonly ClaimedRow[]): RowWork[] {
  const work = rows.map((row): RowWork => ({ row, targets: [], coalescedInto: undefined, messages: [], error: undefined, first: 0 }));
  if (topic.coalesce) {
    // Over `rows`, the rows worked on (a crash suspect alone, or every row): indexes into `work`.
    coalesceRows(rows).forEach((representative, i) => {
      const w = work[i] as RowWork;
      if (representative !== i) w.coalescedInto = work[representative];
    });
  }
  return work;
}

/**
 * The broker's max.message.bytes applies to a whole record batch, so one oversized message makes
 * librdkafka's batch fail for every message in it. Messages that failed that way are sent again one
 * at a time: the ones that fit go through, only the truly oversized ones keep MESSAGE_TOO_LARGE.
 */
async function isolateTooLarge(deps: BatchDeps, work: readonly RowWork[], outcomes: DeliveryOutcome[]): Promise<DeliveryOutcome[]> {
  const retry = outcomes.flatMap((o, i) => (o?.code === 'MESSAGE_TOO_LARGE' ? [i] : []));
  if (retry.length === 0) return outcomes;
  const messages = work.flatMap((w) => w.messages);
  const result = [...outcomes];
  for (const i of retry) {
    const message = messages[i];
    if (message === undefined) continue;
    const [outcome] = await (await deps.publisher.enqueueAll([message])).settled;
    result[i] = outcome ?? null;
  }
  deps.logger.info({ messages: retry.length }, 'resent messages of a record batch the broker refused as too large, one by one');
  return result;
}

async function mark(
  deps: BatchDeps,
  topic: TopicConfig,
  batch: ClaimedBatch,
  work: RowWork[],
  outcomes: readonly DeliveryOutcome[],
): Promise<BatchResult> {
  const published: string[] = [];
  const latencies: number[] = [];
  const failures: FailureMark[] = [];
  let released = 0;
  let held = 0;
  let givenUp = 0;
  const now = Date.now();
  const errorOf = (w: RowWork): RelayError | undefined => {
    if (w.coalescedInto !== undefined) return errorOf(w.coalescedInto);
    let error = w.error;
    for (let i = 0; error === undefined && i < w.messages.length; i++) error = outcomes[w.first + i] ?? undefined;
    return error;
  };
  for (const w of work) {
    const error = errorOf(w);
    if (error === undefined) {
      published.push(w.row.id);
      latencies.push(Math.max(0, (now - w.row.createdAtMs) / 1000));
      continue;
    }
    if (error.code === 'RESOURCE_HELD') {
      // Not the row's fault and not an outage: left pending, claimed again once the frozen relay is gone.
      held += 1;
      continue;
    }
    if (error.code === 'KAFKA_UNAVAILABLE' || (error.retriable && error.code.startsWith('KAFKA_DELIVERY'))) {
      // The broker, not the row, failed: leave the row pending; it is claimed again after commit.
      released += 1;
      continue;
    }
    const decision = decideRetry(w.row.attempts + 1, deps.retryPolicy, deps.random);
    if (decision.giveUp) givenUp += 1;
    failures.push({
      id: w.row.id,
      errorClass: error.code,
      errorMessage: error.message,
      delayMs: decision.giveUp ? 0 : decision.delayMs,
      giveUp: decision.giveUp,
    });
    deps.logger.warn(
      {
        row: w.row.id,
        topic: topic.name,
        resource: `${w.row.resourceClass}:${w.row.resourceId}`,
        event: w.row.eventName,
        attempts: w.row.attempts + 1,
        err: error,
        ...(decision.giveUp ? { givenUp: true } : { retryInMs: decision.delayMs }),
      },
      decision.giveUp ? 'row failed and was given up' : 'row failed, will retry',
    );
  }
  if (failures.length === 0) {
    // The common case: the mark and the commit in one round trip (runBatch's commit() is then a no-op).
    await batch.markPublishedAndCommit(published);
  } else {
    await batch.markPublished(published);
    await batch.markFailed(failures);
  }
  safely(() => deps.observer.rowsPublished(topic.name, latencies));
  if (failures.length > 0) safely(() => deps.observer.rowsFailed(topic.name, failures.map((f) => f.errorClass)));
  if (givenUp > 0) safely(() => deps.observer.rowsGivenUp(topic.name, givenUp));
  if (held > 0) safely(() => deps.observer.rowsHeld(topic.name, held));
  if (released > 0) {
    deps.logger.warn({ topic: topic.name, released }, 'rows left pending: the broker did not acknowledge them');
  }
  return { claimed: work.length, published: published.length, failed: failures.length, givenUp, released, held };
}

/** Observer rows and dependency rows (whose record may be gone) read their `changeset`. */
function needsChangeset(topic: TopicConfig): boolean {
  return topic.name === OBSERVER_TOPIC || topic.dependencies.size > 0;
}

function phaseTimer(observer: RelayObserver): (phase: BatchPhase) => void {
  let last = process.hrtime.bigint();
  return (phase) => {
    const now = process.hrtime.bigint();
    const seconds = Number(now - last) / 1e9;
    last = now;
    safely(() => observer.phaseFinished(phase, seconds));
  };
}
