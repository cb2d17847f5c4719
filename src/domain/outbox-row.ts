/**
 * The outbox row and the words used about it everywhere in the relay (docs/design.md has the same
 * glossary with the life of a batch around it):
 * - outbox row: one row of dionysus_outboxes, written by the application in the same transaction as
 *   the change it announces.
 * - topic key / topic name: `users` in the topics YAML / `<namespace>_users` in Kafka and in the row.
 * - model: a published class (`User`); its serializer is one SQL statement or view returning one row
 *   per resource, columns in attribute order.
 * - resource: one published record, `<model>:<id>`; a row's target is a resource it publishes (its
 *   own, a dependency's parent, an observer's related record).
 * - claim: taking pending rows under `FOR UPDATE SKIP LOCKED` in a transaction that stays open until
 *   their outcome is marked. batch: the rows of one claim.
 * - resource lock: a transaction-scoped advisory lock per target, held from before its state is read
 *   until the marks commit. busy: locked by another batch now. frozen: registered by a live relay
 *   whose claim transaction ended (it may still send). Rows of either are held back: left pending,
 *   no attempt counted.
 * - delivery report: librdkafka's per-message answer (acked by the broker, or failed).
 * - mark: writing the outcome back to the rows: published, failed (retry_at from the retry
 *   schedule) or given up (retry_at = infinity). released: left pending because the broker, not the
 *   row, failed.
 * - coalesce: one message for several rows of the same resource and event in a batch.
 * - in-flight entry / crash suspect: a batch's registration in dionysus_relay_inflight; a row that
 *   was in flight when a relay died, published alone from then on.
 */

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
  /** The optional changeset column (`{"attr": [old, new]}`), null when absent or not a JSON object. */
  readonly changeset: Record<string, unknown> | null;
}

/**
 * A claimed row's changeset: the object the claim read from a json(b) column, or the text of a text
 * column (claim-sql.ts) parsed here. Anything but a JSON object (an encrypted changeset, a string,
 * an array) names no attribute: the row then publishes as if nothing known had changed, instead of
 * failing its claim on every attempt.
 */
export function changesetFromColumn(value: unknown): Record<string, unknown> | null {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      return null;
    }
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
}

export const DESTROYED_SUFFIX = '_destroyed';

export function isDestroyEvent(eventName: string): boolean {
  return eventName.endsWith(DESTROYED_SUFFIX);
}
