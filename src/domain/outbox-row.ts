/** A dionysus_outboxes row as the claim returns it (only the columns publishing needs). */
export interface ClaimedRow {
  readonly id: string;
  readonly resourceClass: string;
  readonly resourceId: string;
  readonly eventName: string;
  /** Full Kafka topic name (`<namespace>_<topic>`). */
  readonly topic: string;
  readonly partitionKey: string | null;
  /** Failures so far (before this attempt). */
  readonly attempts: number;
  /** created_at in epoch milliseconds (UTC), for latency. */
  readonly createdAtMs: number;
  /** The optional changeset column (`{"attr": [old, new]}`), null when absent. */
  readonly changeset: Record<string, unknown> | null;
}

/** What happens to one row after its attempt. */
export type RowOutcome =
  | { readonly kind: 'published'; readonly messages: number }
  | { readonly kind: 'failed'; readonly errorClass: string; readonly errorMessage: string };

export const DESTROYED_SUFFIX = '_destroyed';

export function isDestroyEvent(eventName: string): boolean {
  return eventName.endsWith(DESTROYED_SUFFIX);
}
