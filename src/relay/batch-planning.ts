import type { TopicConfig } from '../config/topics-types';
import { GENESIS_SUFFIX, OBSERVER_TOPIC } from '../config/topics-types';
import { planRow, type OutgoingMessage } from '../domain/message-builder';
import { changesetTouches, ownTarget, parentsFromChangeset, updatedTarget, type PublishTarget } from '../domain/publish-targets';
import { EncodingError } from '../domain/rails-json';
import { RelayError, errorMessage } from '../errors';
import type { ParentsById } from '../postgres/dependency-resolver';
import type { TrackedBatch } from '../postgres/crash-tracker';
import type { ClaimedBatch } from '../postgres/outbox-store';
import type { LoadResult } from '../postgres/serializer-loader';
import type { BatchDeps, RowWork } from './batch-work';

/**
 * Decides each row's publish targets (its own resource, a dependency's parents, an observer's
 * related records), loads every target's record with one query per (topic, model), and builds the
 * messages. `batch` is needed for observer fan-outs written in the claim's transaction.
 */
export async function loadAndPlan(
  deps: BatchDeps,
  topic: TopicConfig,
  work: RowWork[],
  batch: ClaimedBatch,
  tracked: TrackedBatch | undefined,
  /** The outcome of the resource locks when the caller took them with the registration (see resolveOwnTargets). */
  locked?: LockOutcome,
): Promise<void> {
  if (locked !== undefined) {
    applyLocks(deps, work, locked);
  } else {
    if (topic.name === OBSERVER_TOPIC) await resolveObserverTargets(deps, work, batch);
    else await resolveTargets(deps, topic, work);
    await lockTargets(deps, work, batch, tracked);
  }
  const groups = new Map<string, { topic: TopicConfig; model: string; ids: Set<string> }>();
  for (const w of work) {
    for (const t of w.targets) {
      const key = `${t.topic.name}\u0000${t.model}`;
      const group = groups.get(key) ?? { topic: t.topic, model: t.model, ids: new Set<string>() };
      group.ids.add(t.resourceId);
      groups.set(key, group);
    }
  }
  const loads = new Map(
    await Promise.all(
      [...groups.entries()].map(async ([key, g]): Promise<[string, LoadResult]> => [key, await deps.loader.load(g.topic.name, g.model, [...g.ids])]),
    ),
  );
  const kafkaTopics = new Set<string>();
  for (const g of groups.values()) {
    kafkaTopics.add(g.topic.name);
    if (g.topic.genesisReplica) kafkaTopics.add(g.topic.name + GENESIS_SUFFIX);
  }
  await deps.publisher.refreshPartitions(kafkaTopics);
  const partitionCount = (t: string): number => deps.publisher.partitionCount(t);
  for (const w of work) planRowMessages(deps, w, loads, partitionCount);
}

const resourceKey = (t: PublishTarget<TopicConfig>): string => `${t.topic.name}:${t.model}:${t.resourceId}`;

export type LockOutcome = Awaited<ReturnType<ClaimedBatch['lockResources']>>;

/**
 * When every row of a regular topic publishes only its own resource (no dependency, no observer,
 * no unknown model), its targets are known without a query: fills them and returns true, so the
 * caller can take the resource locks while it registers the batch (see runBatch). Otherwise
 * changes nothing and returns false.
 */
export function resolveOwnTargets(topic: TopicConfig, work: readonly RowWork[]): boolean {
  if (topic.name === OBSERVER_TOPIC) return false;
  if (work.some((w) => w.coalescedInto === undefined && !topic.models.has(w.row.resourceClass))) return false;
  for (const w of work) if (w.coalescedInto === undefined) w.targets = [ownTarget(w.row, topic)];
  return true;
}

/** The resource keys of the rows' targets, as the advisory locks and the in-flight entry name them. */
export function targetKeys(work: readonly RowWork[]): string[] {
  return work.flatMap((w) => w.targets.map(resourceKey));
}

/** The instance id that turns the frozen-relay guard on in lockResources, when crash tracking has it. */
export function guardInstance(deps: BatchDeps): string | undefined {
  return deps.crashTracker.guarding ? deps.crashTracker.instance : undefined;
}

/**
 * Takes the batch's resource locks and registers them with its in-flight entry (both before
 * anything is read or sent), then applyLocks.
 */
async function lockTargets(deps: BatchDeps, work: RowWork[], batch: ClaimedBatch, tracked: TrackedBatch | undefined): Promise<void> {
  const keys = targetKeys(work);
  const guard = tracked !== undefined ? guardInstance(deps) : undefined;
  const [locked] = await Promise.all([batch.lockResources(keys, guard), deps.crashTracker.registerKeys(tracked, keys)]);
  applyLocks(deps, work, locked);
}

/**
 * Rows with a resource that another batch is publishing right now, or that a frozen relay may
 * still publish, are left pending (RESOURCE_HELD, not counted as an attempt) for a later claim:
 * see lockResources and lockResourcesGuarded in outbox-sql.ts.
 */
function applyLocks(deps: BatchDeps, work: RowWork[], { busy, frozen: held }: LockOutcome): void {
  if (busy.size === 0 && held.size === 0) return;
  for (const w of work) {
    const target = w.targets.find((t) => busy.has(resourceKey(t)) || held.has(resourceKey(t)));
    if (target === undefined) continue;
    const key = resourceKey(target);
    w.targets = [];
    w.error = new RelayError(
      'RESOURCE_HELD',
      held.has(key)
        ? `${target.model} ${target.resourceId} on ${target.topic.name} may still be sent by a relay whose claim ended while it was not responding (frozen?): left pending until it resumes or exits`
        : `${target.model} ${target.resourceId} on ${target.topic.name} is being published by another batch: left pending for a later claim`,
      { retriable: true },
    );
  }
  if (held.size > 0) deps.logger.warn({ resources: held.size }, 'resources held back: a live relay lost its claim while it may still have their messages queued');
  if (busy.size > 0) deps.logger.debug({ resources: busy.size }, 'resources left for a later claim: another batch is publishing them');
}

function planRowMessages(deps: BatchDeps, w: RowWork, loads: ReadonlyMap<string, LoadResult>, partitionCount: (topic: string) => number): void {
  const messages: OutgoingMessage[] = [];
  for (const target of w.targets) {
    const model = target.topic.models.get(target.model);
    const loaded = loads.get(`${target.topic.name}\u0000${target.model}`);
    if (model === undefined || loaded === undefined) continue;
    const failure = loaded.failures.get(target.resourceId);
    if (failure !== undefined) {
      w.error = failure;
      return;
    }
    try {
      const record = loaded.records.get(target.resourceId);
      const plan = planRow({
        row: { resourceClass: target.model, resourceId: target.resourceId, eventName: target.eventName, partitionKey: target.partitionKey },
        topicName: target.topic.name,
        genesisReplica: target.topic.genesisReplica,
        partitionKeyAttribute: model.partitionKey,
        // Only a vanished record is rebuilt from its id (deletedRecord), which needs the id's type.
        idType: record === undefined ? deps.loader.idType(target.topic.name, target.model) : undefined,
        record,
        partitionCount,
      });
      if (plan.kind === 'send') messages.push(...plan.messages);
      else deps.logger.info({ row: w.row.id, topic: target.topic.name, resource: `${target.model}:${target.resourceId}` }, plan.reason);
    } catch (err) {
      w.error =
        err instanceof EncodingError
          ? new RelayError('ENCODING_FAILED', `cannot encode ${target.model} ${target.resourceId}: ${err.message}`, { cause: err })
          : new RelayError('RECORD_INVALID', `cannot build the message of ${target.model} ${target.resourceId}: ${errorMessage(err)}`, { cause: err });
      return;
    }
  }
  w.messages = messages;
}

/** Fills `targets` (or `error`) of every row of a regular topic that is not coalesced into another. */
async function resolveTargets(deps: BatchDeps, topic: TopicConfig, work: RowWork[]): Promise<void> {
  const dependencyRows = new Map<string, RowWork[]>();
  for (const w of work) {
    if (w.coalescedInto !== undefined) continue;
    const cls = w.row.resourceClass;
    if (topic.models.has(cls)) w.targets = [ownTarget(w.row, topic)];
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
      w.targets =
        found.length > 0 ? found.map((p) => updatedTarget(topic, p.parentModel, p.parentId)) : parentsFromChangeset(w.row, topic, configs);
      if (w.targets.length === 0) {
        deps.logger.warn({ row: w.row.id, topic: topic.name, resource: `${cls}:${w.row.resourceId}` }, 'dependency row has no parent to republish');
      }
    }
  }
}

/**
 * Observer rows: each observer of the row's class whose attributes the changeset touches finds
 * its related records. Up to the inline limit they are published with this row; above it they are
 * written as outbox rows of the target topic in this transaction (and published like any row).
 */
async function resolveObserverTargets(deps: BatchDeps, work: RowWork[], batch: ClaimedBatch): Promise<void> {
  const observers = deps.observers.all;
  for (const w of work) {
    if (w.coalescedInto !== undefined) continue;
    const matching = observers.filter((o) => o.model === w.row.resourceClass && changesetTouches(w.row.changeset, o.attributes));
    const targets: PublishTarget<TopicConfig>[] = [];
    try {
      for (const o of matching) {
        const related = await deps.observers.related(o, w.row.resourceId);
        if (related.length > deps.observerInlineLimit) {
          const event = updatedTarget(o.topic, o.republish, '').eventName;
          await batch.insertFanout(o.republish, related, event, o.topic.name);
          deps.logger.info({ row: w.row.id, observer: o.name, records: related.length, topic: o.topic.name }, 'observer fan-out handed to the outbox');
        } else {
          targets.push(...related.map((id) => updatedTarget(o.topic, o.republish, id)));
        }
      }
      w.targets = targets;
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      w.error = err;
    }
  }
}
