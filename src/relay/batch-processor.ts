import type { Logger } from 'pino';
import type { TopicConfig } from '../config/topics-types';
import { GENESIS_SUFFIX } from '../config/topics-types';
import { planRow, type OutgoingMessage } from '../domain/message-builder';
import { coalesceRows } from '../domain/coalesce';
import { ownTarget, parentTarget, parentsFromChangeset, type PublishTarget } from '../domain/publish-targets';
import type { DependencyResolver, ParentsById } from '../postgres/dependency-resolver';
import type { ClaimedRow } from '../domain/outbox-row';
import { EncodingError } from '../domain/rails-json';
import { decideRetry, type RetryPolicy } from '../domain/retry-schedule';
import { RelayError, errorMessage } from '../errors';
import type { DeliveryOutcome, KafkaPublisher } from '../kafka/publisher';
import type { ClaimedBatch, FailureMark, OutboxStore } from '../postgres/outbox-store';
import type { LoadResult, SerializerLoader } from '../postgres/serializer-loader';
import { safely, type BatchPhase, type RelayObserver } from './relay-observer';
import type { SerialLock } from './serial-lock';

export interface BatchDeps {
  readonly store: OutboxStore;
  readonly loader: SerializerLoader;
  readonly dependencies: DependencyResolver;
  readonly publisher: KafkaPublisher;
  readonly retryPolicy: RetryPolicy;
  readonly random: () => number;
  readonly logger: Logger;
  readonly observer: RelayObserver;
  /** Shared by all batches of the process: load → enqueue happens in claim order. */
  readonly orderLock: SerialLock;
  readonly batchSize: number;
  readonly publishDelayMs: number;
}

export interface BatchResult {
  readonly claimed: number;
  readonly published: number;
  readonly failed: number;
  readonly givenUp: number;
  /** Rows left pending without an attempt counted (broker trouble during delivery). */
  readonly released: number;
}

const EMPTY: BatchResult = { claimed: 0, published: 0, failed: 0, givenUp: 0, released: 0 };

/** Per-row state while a batch is being worked on. */
interface RowWork {
  readonly row: ClaimedRow;
  /** The resources this row publishes (its own, or a dependency's parents). */
  targets: readonly PublishTarget[];
  /** Set when duplicate coalescing lets another row of the batch publish for this one. */
  coalescedInto: RowWork | undefined;
  messages: readonly OutgoingMessage[];
  error: RelayError | undefined;
  /** Index of the row's first message in the batch's message list. */
  first: number;
}

/**
 * One batch, start to end: claim → load → build → enqueue → await delivery reports → mark →
 * commit. A row's failure is recorded on that row only; an infrastructure failure abandons the
 * batch (rollback: its rows become claimable again, nothing is counted against them).
 */
export async function runBatch(deps: BatchDeps, topic: TopicConfig): Promise<BatchResult> {
  const timer = phaseTimer(deps.observer);
  let batch: ClaimedBatch | null;
  try {
    batch = await deps.store.claim(topic.name, deps.batchSize, deps.publishDelayMs);
  } finally {
    // Liveness counts attempts, not successes: a loop that keeps trying while Postgres is down is
    // alive (readiness reports the outage); only a wedged loop stops reporting.
    safely(() => deps.observer.claimFinished(topic.name));
  }
  timer('claim');
  if (batch !== null) safely(() => deps.observer.batchClaimed(topic.name, batch.rows.length));
  if (batch === null) return EMPTY;
  try {
    const work = batch.rows.map((row): RowWork => ({ row, targets: [], coalescedInto: undefined, messages: [], error: undefined, first: 0 }));
    if (topic.coalesce) {
      coalesceRows(batch.rows).forEach((representative, i) => {
        const w = work[i] as RowWork;
        if (representative !== i) w.coalescedInto = work[representative];
      });
    }
    const settled = await deps.orderLock.run(async () => {
      await loadAndPlan(deps, topic, work);
      timer('load');
      const messages: OutgoingMessage[] = [];
      for (const w of work) {
        w.first = messages.length;
        messages.push(...w.messages);
      }
      return (await deps.publisher.enqueueAll(messages)).settled;
    });
    const outcomes = await isolateTooLarge(deps, work, await settled);
    timer('produce');
    const result = await mark(deps, topic, batch, work, outcomes);
    await batch.commit();
    timer('mark');
    return result;
  } catch (err) {
    await batch.abandon(err);
    safely(() => deps.observer.batchAbandoned(topic.name, errorMessage(err)));
    throw err;
  }
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

/**
 * Decides each row's publish targets (its own resource, or the parents of a dependency), loads
 * every target's record with one query per model, and builds the messages.
 */
async function loadAndPlan(deps: BatchDeps, topic: TopicConfig, work: RowWork[]): Promise<void> {
  await resolveTargets(deps, topic, work);
  const idsByModel = new Map<string, Set<string>>();
  for (const w of work) {
    for (const t of w.targets) idsByModel.set(t.model, (idsByModel.get(t.model) ?? new Set()).add(t.resourceId));
  }
  const loads = new Map(
    await Promise.all(
      [...idsByModel.entries()].map(async ([model, ids]): Promise<[string, LoadResult]> => [model, await deps.loader.load(topic.name, model, [...ids])]),
    ),
  );
  await deps.publisher.refreshPartitions(topic.genesisReplica ? [topic.name, topic.name + GENESIS_SUFFIX] : [topic.name]);
  for (const w of work) {
    const messages: OutgoingMessage[] = [];
    for (const target of w.targets) {
      const model = topic.models.get(target.model);
      const loaded = loads.get(target.model);
      if (model === undefined || loaded === undefined) continue;
      const failure = loaded.failures.get(target.resourceId);
      if (failure !== undefined) {
        w.error = failure;
        break;
      }
      try {
        const plan = planRow({
          row: { ...w.row, resourceClass: target.model, resourceId: target.resourceId, eventName: target.eventName, partitionKey: target.partitionKey },
          topicName: topic.name,
          genesisReplica: topic.genesisReplica,
          partitionKeyAttribute: model.partitionKey,
          idType: deps.loader.idType(topic.name, target.model),
          record: loaded.records.get(target.resourceId),
          partitionCount: (t) => deps.publisher.partitionCount(t),
        });
        if (plan.kind === 'send') messages.push(...plan.messages);
        else deps.logger.info({ row: w.row.id, topic: topic.name, resource: `${target.model}:${target.resourceId}` }, plan.reason);
      } catch (err) {
        w.error =
          err instanceof EncodingError
            ? new RelayError('ENCODING_FAILED', `cannot encode ${target.model} ${target.resourceId}: ${err.message}`, { cause: err })
            : new RelayError('RECORD_INVALID', `cannot build the message of ${target.model} ${target.resourceId}: ${errorMessage(err)}`, { cause: err });
        break;
      }
    }
    if (w.error === undefined) w.messages = messages;
  }
}

/** Fills `targets` (or `error`) of every row that is not coalesced into another. */
async function resolveTargets(deps: BatchDeps, topic: TopicConfig, work: RowWork[]): Promise<void> {
  const dependencyRows = new Map<string, RowWork[]>();
  for (const w of work) {
    if (w.coalescedInto !== undefined) continue;
    const cls = w.row.resourceClass;
    if (topic.models.has(cls)) w.targets = [ownTarget(w.row)];
    else if (topic.dependencies.has(cls)) dependencyRows.set(cls, [...(dependencyRows.get(cls) ?? []), w]);
    else {
      w.error = new RelayError(
        'UNKNOWN_MODEL',
        `resource_class ${cls} has no serializer or dependency on topic ${topic.name} (configured: ${[...topic.models.keys()].join(', ')})`,
        { context: { topic: topic.name } },
      );
    }
  }
  for (const [cls, group] of dependencyRows) {
    const configs = topic.dependencies.get(cls) ?? [];
    let parents: ParentsById;
    try {
      parents = await deps.dependencies.parents(configs, [...new Set(group.map((w) => w.row.resourceId))]);
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      for (const w of group) w.error = err;
      continue;
    }
    for (const w of group) {
      const found = parents.get(w.row.resourceId) ?? [];
      // A dependency that no longer exists has no parents to find: its row's changeset names them.
      w.targets = found.length > 0 ? found.map((p) => parentTarget(p.parentModel, p.parentId)) : parentsFromChangeset(w.row, configs);
      if (w.targets.length === 0) {
        deps.logger.warn({ row: w.row.id, topic: topic.name, resource: `${cls}:${w.row.resourceId}` }, 'dependency row has no parent to republish');
      }
    }
  }
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
  await batch.markPublished(published);
  await batch.markFailed(failures);
  safely(() => deps.observer.rowsPublished(topic.name, latencies));
  if (failures.length > 0) safely(() => deps.observer.rowsFailed(topic.name, failures.map((f) => f.errorClass)));
  if (givenUp > 0) safely(() => deps.observer.rowsGivenUp(topic.name, givenUp));
  if (released > 0) {
    deps.logger.warn({ topic: topic.name, released }, 'rows left pending: the broker did not acknowledge them');
  }
  return { claimed: work.length, published: published.length, failed: failures.length, givenUp, released };
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
