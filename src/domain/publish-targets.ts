import { modelSingular } from './message-key';
import type { ClaimedRow } from './outbox-row';

/**
 * What one outbox row publishes. A row of a published model publishes that resource with the row's
 * event; a row of a dependency (the gem's `with:`) publishes `<parent>_updated` for each parent,
 * each keyed and partitioned as that parent (the gem wrongly reused the first parent's key).
 * `Topic` is the caller's description of a topic (the topics YAML's), carried along untouched.
 */
export interface PublishTarget<Topic> {
  /** The topic the target is published on (an observer row's targets live on another topic). */
  readonly topic: Topic;
  readonly model: string;
  readonly resourceId: string;
  readonly eventName: string;
  /** The row's own partition_key applies only to the row's own resource, never to a parent. */
  readonly partitionKey: string | null;
}

export function ownTarget<Topic>(row: ClaimedRow, topic: Topic): PublishTarget<Topic> {
  return { topic, model: row.resourceClass, resourceId: row.resourceId, eventName: row.eventName, partitionKey: row.partitionKey };
}

/** `<model_singular>_updated` of a related record (a dependency's parent, an observer's target). */
export function updatedTarget<Topic>(topic: Topic, model: string, id: string): PublishTarget<Topic> {
  return { topic, model, resourceId: id, eventName: `${modelSingular(model)}_updated`, partitionKey: null };
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

/** What a dependency declares about its parent (a `dependencies` entry of the topics YAML). */
export interface ParentLink {
  readonly parentModel: string;
  /** The changeset attribute holding the parent's id, for a dependency that no longer exists. */
  readonly parentFromChangeset: string | undefined;
}

/** Parents of a dependency row when the dependency itself is gone: from its changeset, per link. */
export function parentsFromChangeset<Topic>(row: ClaimedRow, topic: Topic, links: readonly ParentLink[]): PublishTarget<Topic>[] {
  return links.flatMap((c) => {
    if (c.parentFromChangeset === undefined) return [];
    const id = parentIdFromChangeset(row.changeset, c.parentFromChangeset);
    return id === undefined ? [] : [updatedTarget(topic, c.parentModel, id)];
  });
}

/** Whether an observer row's changeset touches one of the observed attributes. */
export function changesetTouches(changeset: Record<string, unknown> | null, attributes: readonly string[]): boolean {
  return changeset !== null && attributes.some((a) => Object.prototype.hasOwnProperty.call(changeset, a));
}
