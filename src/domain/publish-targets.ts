import type { DependencyConfig } from '../config/topics-types';
import { modelSingular } from './message-key';
import type { ClaimedRow } from './outbox-row';

/**
 * What one outbox row publishes. A row of a published model publishes that resource with the row's
 * event; a row of a dependency (the gem's `with:`) publishes `<parent>_updated` for each parent,
 * each keyed and partitioned as that parent (the gem wrongly reused the first parent's key).
 */
export interface PublishTarget {
  readonly model: string;
  readonly resourceId: string;
  readonly eventName: string;
  /** The row's own partition_key applies only to the row's own resource, never to a parent. */
  readonly partitionKey: string | null;
}

export function ownTarget(row: ClaimedRow): PublishTarget {
  return { model: row.resourceClass, resourceId: row.resourceId, eventName: row.eventName, partitionKey: row.partitionKey };
}

export function parentTarget(parentModel: string, parentId: string): PublishTarget {
  return { model: parentModel, resourceId: parentId, eventName: `${modelSingular(parentModel)}_updated`, partitionKey: null };
}

/**
 * The parent id a hard-deleted dependency's row carries in its changeset (`{"booking_id": [12, null]}`
 * or `{"booking_id": 12}`): the last non-null value, as text. Undefined when absent.
 */
export function parentIdFromChangeset(changeset: Record<string, unknown> | null, attribute: string): string | undefined {
  const value = changeset?.[attribute];
  const candidates = Array.isArray(value) ? [...value].reverse() : [value];
  const found = candidates.find((v) => v !== null && v !== undefined && v !== '');
  return found === undefined ? undefined : String(found);
}

/** Parents of a dependency row when the dependency itself is gone: from its changeset, per config. */
export function parentsFromChangeset(row: ClaimedRow, configs: readonly DependencyConfig[]): PublishTarget[] {
  return configs.flatMap((c) => {
    if (c.parentFromChangeset === undefined) return [];
    const id = parentIdFromChangeset(row.changeset, c.parentFromChangeset);
    return id === undefined ? [] : [parentTarget(c.parentModel, id)];
  });
}
