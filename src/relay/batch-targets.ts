import type { Logger } from 'pino';
import type { DependencyConfig, TopicConfig } from '../config/topics-types';
import { coalesceRows } from '../domain/coalesce';
import type { ClaimedRow } from '../domain/outbox-row';
import { changesetTouches, ownTarget, parentsFromChangeset, updatedTarget, type PublishTarget } from '../domain/publish-targets';
import { OBSERVER_TOPIC } from '../domain/topic-names';
import { RelayError } from '../errors';
import type { DependencyParents, FanoutWriter, ObserverTargets } from './batch-ports';
import { handOverFanout } from './observer-fanout';

/** A resource a row publishes, on the topic (of the topics YAML) it is published on. */
export type Target = PublishTarget<TopicConfig>;

/** What a row publishes, or why it cannot publish anything. A coalesced row publishes nothing itself. */
export type RowTargets = readonly Target[] | RelayError;

/** A row of the batch; `representative` is the index of the row that publishes for it (itself unless coalesced). */
export interface WorkedRow {
  readonly row: ClaimedRow;
  readonly representative: number;
}

/** The rows worked on, with duplicate coalescing applied when the topic asks for it. */
export function workOn(topic: TopicConfig, rows: readonly ClaimedRow[]): WorkedRow[] {
  const representatives = topic.coalesce ? coalesceRows(rows) : rows.map((_, i) => i);
  return rows.map((row, i) => ({ row, representative: representatives[i] as number }));
}

const coalesced = (w: WorkedRow, i: number): boolean => w.representative !== i;

/**
 * When every row of a regular topic publishes only its own resource (no dependency, no observer,
 * no unknown model), its targets are known without a query: the batch can then take the resource
 * locks while it registers. Undefined otherwise.
 */
export function ownTargets(topic: TopicConfig, rows: readonly WorkedRow[]): RowTargets[] | undefined {
  if (topic.name === OBSERVER_TOPIC) return undefined;
  if (rows.some((w, i) => !coalesced(w, i) && !topic.models.has(w.row.resourceClass))) return undefined;
  return rows.map((w, i) => (coalesced(w, i) ? [] : [ownTarget(w.row, topic)]));
}

export interface TargetQueries {
  readonly dependencies: DependencyParents;
  readonly observers: ObserverTargets;
  readonly observerInlineLimit: number;
  readonly logger: Logger;
}

/**
 * Each row's targets when some need a query: a dependency's parents, an observer's related records
 * (a fan-out above the inline limit is written as outbox rows of the target topic, in the batch's
 * transaction), or UNKNOWN_MODEL for a class the topic does not know.
 */
export async function findTargets(queries: TargetQueries, topic: TopicConfig, rows: readonly WorkedRow[], batch: FanoutWriter): Promise<RowTargets[]> {
  if (topic.name === OBSERVER_TOPIC) return observerTargets(queries, rows, batch);
  const targets: RowTargets[] = rows.map(() => []);
  const dependencyRows = new Map<string, number[]>();
  rows.forEach((w, i) => {
    if (coalesced(w, i)) return;
    const cls = w.row.resourceClass;
    if (topic.models.has(cls)) targets[i] = [ownTarget(w.row, topic)];
    else if (topic.dependencies.has(cls)) dependencyRows.set(cls, [...(dependencyRows.get(cls) ?? []), i]);
    else {
      targets[i] = new RelayError(
        'UNKNOWN_MODEL',
        `resource_class ${cls} has no serializer or dependency on topic ${topic.name} (configured: ${[...topic.models.keys()].join(', ')})`,
        { context: { topic: topic.name } },
      );
    }
  });
  for (const [cls, group] of dependencyRows) {
    const configs = topic.dependencies.get(cls) ?? [];
    const found = await dependencyTargets(queries, topic, configs, group.map((i) => (rows[i] as WorkedRow).row));
    group.forEach((index, j) => (targets[index] = found[j] as RowTargets));
  }
  return targets;
}

async function dependencyTargets(
  queries: TargetQueries,
  topic: TopicConfig,
  configs: readonly DependencyConfig[],
  rows: readonly ClaimedRow[],
): Promise<RowTargets[]> {
  let parents;
  try {
    parents = await queries.dependencies.parents(configs, [...new Set(rows.map((r) => r.resourceId))]);
  } catch (err) {
    if (!(err instanceof RelayError)) throw err;
    return rows.map(() => err);
  }
  return rows.map((row) => {
    const found = parents.get(row.resourceId) ?? [];
    // A dependency that no longer exists has no parents to find: its row's changeset names them.
    const targets = found.length > 0 ? found.map((p) => updatedTarget(topic, p.parentModel, p.parentId)) : parentsFromChangeset(row, topic, configs);
    if (targets.length === 0) {
      queries.logger.warn({ row: row.id, topic: topic.name, resource: `${row.resourceClass}:${row.resourceId}` }, 'dependency row has no parent to republish');
    }
    return targets;
  });
}

/**
 * Observer rows: each observer of the row's class whose attributes the changeset touches finds
 * its related records. Up to the inline limit they are published with this row; above it they are
 * written as outbox rows of the target topic in this transaction (and published like any row).
 */
async function observerTargets(queries: TargetQueries, rows: readonly WorkedRow[], batch: FanoutWriter): Promise<RowTargets[]> {
  const observers = queries.observers.all;
  const targets: RowTargets[] = [];
  for (const [i, w] of rows.entries()) {
    if (coalesced(w, i)) {
      targets.push([]);
      continue;
    }
    const matching = observers.filter((o) => o.model === w.row.resourceClass && changesetTouches(w.row.changeset, o.attributes));
    const found: Target[] = [];
    try {
      for (const o of matching) {
        // One id more than the inline limit tells an inline fan-out from one to hand over.
        const first = await queries.observers.relatedPage(o, w.row.resourceId, queries.observerInlineLimit + 1);
        if (first.length > queries.observerInlineLimit) {
          const records = await handOverFanout(queries.observers, batch, o, w.row.resourceId, first);
          queries.logger.info({ row: w.row.id, observer: o.name, records, topic: o.topic.name }, 'observer fan-out handed to the outbox');
        } else {
          found.push(...first.map((id) => updatedTarget(o.topic, o.republish, id)));
        }
      }
      targets.push(found);
    } catch (err) {
      if (!(err instanceof RelayError)) throw err;
      targets.push(err);
    }
  }
  return targets;
}
