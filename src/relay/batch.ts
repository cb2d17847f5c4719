import type { TopicConfig } from '../config/topics-types';
import type { OutgoingMessage } from '../domain/message-builder';
import { decideRowOutcome, rowFailure, type RowOutcome } from '../domain/row-outcome';
import { keyHeads } from '../domain/strict-order';
import { OBSERVER_TOPIC } from '../domain/topic-names';
import { RelayError, errorMessage } from '../errors';
import type { DeliveryOutcome } from '../kafka/delivery-tracker';
import type { FailureMark } from '../postgres/claimed-batch';
import type { ClaimMode } from '../postgres/outbox-store';
import { buildMessages, loadRecords, type RowMessages } from './batch-messages';
import type { BatchDeps, ClaimedRows, RowMarker } from './batch-ports';
import { findTargets, ownTargets, workOn, type RowTargets, type WorkedRow } from './batch-targets';
import { InFlightEntry } from './in-flight-entry';
import { safely, type BatchPhase, type RelayEvents } from './relay-events';
import { holdBack, lockTargets, registerWithLocks, targetKeys, withinLockCap } from './resource-locks';

export type { BatchDeps } from './batch-ports';

export interface BatchResult {
  /** Rows worked on: every claimed row, a crash suspect alone, or a strict topic's key heads. */
  readonly attempted: number;
  readonly published: number;
  readonly failed: number;
  readonly givenUp: number;
  /** Rows left pending without an attempt counted (broker trouble during delivery). */
  readonly released: number;
  /** Rows claimed but left for a later batch: the others of a crash suspect's batch, a strict topic's non-heads. */
  readonly deferred: number;
  /** Rows left pending because their resource is busy in another batch or may be sent by a frozen relay. */
  readonly heldBack: number;
}

const NOTHING_CLAIMED: BatchResult = { attempted: 0, published: 0, failed: 0, givenUp: 0, released: 0, deferred: 0, heldBack: 0 };

/**
 * One batch, top to bottom: claim → registration and resource locks → load → build → produce →
 * mark → commit. A row's failure is recorded on that row only; an infrastructure failure abandons
 * the batch (rollback: its rows become claimable again, nothing is counted against them).
 * `onClaimed` is called once the batch holds rows (the loop counts batches that may still publish).
 */
export async function runBatch(deps: BatchDeps, topic: TopicConfig, onClaimed: () => void = () => undefined): Promise<BatchResult> {
  const timer = phaseTimer(deps.events);
  // 1. Claim.
  const batch = await claim(deps, topic);
  timer('claim');
  if (batch === null) return NOTHING_CLAIMED;
  onClaimed();
  const entry = new InFlightEntry(deps.inFlight);
  // From claim to marks the claim session may sit idle for long (broker metadata, delivery reports
  // during a Kafka outage): keep it alive, so that only a dead or frozen relay loses its locks.
  const stopKeepAlive = batch.keepAlive(deps.settings.claimKeepAliveMs);
  try {
    // 2-4. Registration and resource locks, load, build.
    const { rows, messages } = await prepareMessages(deps, topic, batch, entry, timer);
    // 5. Produce: every message enqueued at once, then every delivery report awaited.
    const deliveries = await produce(deps, messages);
    timer('produce');
    stopKeepAlive();
    // 6. Mark, in the claim's transaction, and commit.
    const result = await mark(deps, topic, batch, rows, failures(rows, messages, deliveries));
    await batch.commit();
    timer('mark');
    entry.published(rows.map((w) => w.row));
    return { ...result, deferred: batch.rows.length - rows.length };
  } catch (err) {
    await batch.abandon(err);
    safely(() => deps.events.batchAbandoned(topic.name, errorMessage(err)));
    throw err;
  } finally {
    stopKeepAlive();
    // Not awaited: the next claim need not wait for this bookkeeping.
    void entry.end();
  }
}

/**
 * What the rows publish, locked and registered in flight (2), their records loaded (3) and their
 * messages built (4). Its own function so that the loaded records, by far the most of a batch's
 * memory, are garbage as soon as the messages exist, not kept through delivery and marks.
 */
async function prepareMessages(
  deps: BatchDeps,
  topic: TopicConfig,
  batch: ClaimedRows,
  entry: InFlightEntry,
  timer: (phase: BatchPhase) => void,
): Promise<{ rows: WorkedRow[]; messages: RowMessages[] }> {
  const { rows, targets } = await registerAndLock(deps, topic, batch, entry);
  // No process-wide lock around load → produce: a resource's advisory lock, held from before its
  // state is read until the marks commit (after delivery), already keeps every other batch, of
  // this process or another, from reading and sending it in between.
  const records = await loadRecords(deps.records, deps.kafka, targets);
  timer('load');
  if (batch.sessionMayBeLost(deps.settings.idleInTransactionTimeoutMs)) {
    throw new RelayError('POSTGRES_UNAVAILABLE', 'the claim session was silent past idle_in_transaction_session_timeout (process frozen?): batch abandoned before sending', {
      retriable: true,
      context: { topic: topic.name },
    });
  }
  return { rows, messages: buildMessages(deps, rows.map((w) => w.row.id), targets, records) };
}

async function claim(deps: BatchDeps, topic: TopicConfig): Promise<ClaimedRows | null> {
  let batch: ClaimedRows | null;
  try {
    batch = await deps.outbox.claim(topic.name, deps.settings.batchSize, deps.settings.publishDelayMs, claimMode(topic));
  } finally {
    // Liveness counts attempts, not successes: a loop that keeps trying while Postgres is down is
    // alive (readiness reports the outage); only a wedged loop stops reporting.
    safely(() => deps.events.claimFinished(topic.name));
  }
  if (batch !== null) safely(() => deps.events.batchClaimed(topic.name, batch.rows.length));
  return batch;
}

/** Observer rows and dependency rows (whose record may be gone) read their `changeset`. */
function claimMode(topic: TopicConfig): ClaimMode {
  return {
    strict: topic.ordering === 'strict',
    changeset: topic.name === OBSERVER_TOPIC || topic.dependencies.size > 0,
    changesetValues: [...topic.dependencies.values()].flat().flatMap((d) => (d.parentFromChangeset === undefined ? [] : [d.parentFromChangeset])),
  };
}

/**
 * Decides which rows are worked on and what each publishes, takes the resource locks and registers
 * the batch in flight, all before anything is loaded. When every row publishes its own resource
 * (the common case) the keys are known at once, and the registration carrying them goes out while
 * the claim connection takes their locks: one round trip. Otherwise the rows are registered first,
 * their targets found by query, then locked.
 */
async function registerAndLock(deps: BatchDeps, topic: TopicConfig, batch: ClaimedRows, entry: InFlightEntry): Promise<{ rows: WorkedRow[]; targets: RowTargets[] }> {
  // A strict topic works only on its keys' heads; the other claimed rows are left alone, so they
  // are not registered as in flight either (a crash must not count against them).
  const candidates = topic.ordering === 'strict' ? keyHeads(batch.rows, await batch.strictPending(topic.name)) : batch.rows;
  const ids = candidates.map((r) => r.id);
  let rows = workOn(topic, candidates);
  const cap = deps.settings.locksPerBatch;
  const capped = (t: RowTargets[] | undefined): RowTargets[] | undefined => (t === undefined ? undefined : withinLockCap(t, cap));
  let own = capped(ownTargets(topic, rows));
  const locks = own === undefined ? undefined : await registerWithLocks(batch, entry, ids, own);
  if (own === undefined) await entry.begin(ids, batch.claimXid);
  const suspect = entry.suspectAmong(candidates);
  if (suspect !== undefined) {
    // A row that was in flight when a relay died is published alone, so that if it kills this
    // process too, only its own crash count grows. The other rows stay pending (locks released at
    // commit, nothing marked) for the next batch.
    rows = workOn(topic, [suspect]);
    own = own === undefined ? undefined : capped(ownTargets(topic, rows));
    await entry.narrow([suspect.id], own === undefined ? undefined : targetKeys(own));
    deps.logger.warn({ row: suspect.id, topic: topic.name, resource: `${suspect.resourceClass}:${suspect.resourceId}` }, 'publishing a crash suspect alone');
  }
  if (own !== undefined && locks !== undefined) return { rows, targets: holdBack(deps.logger, own, locks) };
  const found = withinLockCap(await findTargets({ ...deps, observerInlineLimit: deps.settings.observerInlineLimit }, topic, rows, batch), cap);
  return { rows, targets: holdBack(deps.logger, found, await lockTargets(batch, entry, found)) };
}

/**
 * Enqueues every message and waits for every delivery report. The broker's max.message.bytes
 * applies to a whole record batch, so one oversized message makes librdkafka's batch fail for every
 * message in it: messages that failed that way are sent again one at a time, and only the truly
 * oversized ones keep MESSAGE_TOO_LARGE.
 */
async function produce(deps: BatchDeps, built: readonly RowMessages[]): Promise<DeliveryOutcome[]> {
  const messages = built.flatMap((m): readonly OutgoingMessage[] => (m instanceof RelayError ? [] : m));
  const outcomes = await (await deps.kafka.enqueueAll(messages)).settled;
  const tooLarge = outcomes.flatMap((o, i) => (o?.code === 'MESSAGE_TOO_LARGE' ? [i] : []));
  if (tooLarge.length === 0) return outcomes;
  const result = [...outcomes];
  for (const i of tooLarge) {
    const [outcome] = await (await deps.kafka.enqueueAll([messages[i] as OutgoingMessage])).settled;
    result[i] = outcome ?? null;
  }
  deps.logger.info({ messages: tooLarge.length }, 'resent messages of a record batch the broker refused as too large, one by one');
  return result;
}

/**
 * The failure that decides each row (rowFailure): its own, else its first failed delivery; a
 * coalesced row shares its representative's.
 */
function failures(rows: readonly WorkedRow[], built: readonly RowMessages[], deliveries: readonly DeliveryOutcome[]): (RelayError | undefined)[] {
  let first = 0;
  const own = built.map((m) => {
    if (m instanceof RelayError) return m;
    const outcomes = deliveries.slice(first, first + m.length);
    first += m.length;
    return rowFailure<RelayError>(undefined, outcomes);
  });
  return rows.map((w) => own[w.representative]);
}

type MarkCounts = Omit<BatchResult, 'deferred'>;

/** Decides each row's outcome (decideRowOutcome), writes the marks, and reports them. */
async function mark(deps: BatchDeps, topic: TopicConfig, batch: RowMarker, rows: readonly WorkedRow[], rowFailures: readonly (RelayError | undefined)[]): Promise<MarkCounts> {
  const now = Date.now();
  const { retryPolicy, random } = deps.settings;
  const outcomes = rows.map((w, i) => decideRowOutcome(rowFailures[i], w.row.attempts, retryPolicy, random));
  const published = rows.filter((_, i) => outcomes[i]?.kind === 'published');
  const failed: FailureMark[] = [];
  outcomes.forEach((o, i) => {
    if (o.kind !== 'failed' && o.kind !== 'given-up') return;
    const { row } = rows[i] as WorkedRow;
    const giveUp = o.kind === 'given-up';
    failed.push({ id: row.id, errorClass: o.errorClass, errorMessage: o.errorMessage, delayMs: giveUp ? 0 : o.retryInMs, giveUp });
    deps.logger.warn(
      {
        row: row.id,
        topic: topic.name,
        resource: `${row.resourceClass}:${row.resourceId}`,
        event: row.eventName,
        attempts: o.attempts,
        err: rowFailures[i],
        ...(giveUp ? { givenUp: true } : { retryInMs: o.retryInMs }),
      },
      giveUp ? 'row failed and was given up' : 'row failed, will retry',
    );
  });
  const ids = published.map((w) => w.row.id);
  if (failed.length === 0) {
    // The common case: the mark and the commit in one round trip (runBatch's commit() is then a no-op).
    await batch.markPublishedAndCommit(ids);
  } else {
    await batch.markPublished(ids);
    await batch.markFailed(failed);
  }
  const count = (kind: RowOutcome['kind']): number => outcomes.filter((o) => o.kind === kind).length;
  const counts = { attempted: rows.length, published: ids.length, failed: failed.length, givenUp: count('given-up'), released: count('released'), heldBack: count('held-back') };
  safely(() => deps.events.rowsPublished(topic.name, published.map((w) => Math.max(0, (now - w.row.createdAtMs) / 1000))));
  if (failed.length > 0) safely(() => deps.events.rowsFailed(topic.name, failed.map((f) => f.errorClass)));
  if (counts.givenUp > 0) safely(() => deps.events.rowsGivenUp(topic.name, counts.givenUp));
  if (counts.heldBack > 0) safely(() => deps.events.rowsHeldBack(topic.name, counts.heldBack));
  if (counts.released > 0) deps.logger.warn({ topic: topic.name, released: counts.released }, 'rows left pending: the broker did not acknowledge them');
  return counts;
}

function phaseTimer(events: RelayEvents): (phase: BatchPhase) => void {
  let last = process.hrtime.bigint();
  return (phase) => {
    const now = process.hrtime.bigint();
    const seconds = Number(now - last) / 1e9;
    last = now;
    safely(() => events.phaseFinished(phase, seconds));
  };
}
