import type { Statement } from './statement';

/**
 * The statements a batch ends with, all in its claim transaction under the row locks the claim
 * took: so no other relay touches these rows between claim and mark, and a crash before the commit
 * leaves every row pending, unmarked (at-least-once).
 */

export type OnPublish = 'mark' | 'delete';

export interface MarkStatements {
  readonly markPublished: Statement;
  /** markPublished + COMMIT as one simple query, or undefined when an id is not an integer. */
  readonly markPublishedAndCommit: (ids: readonly string[]) => string | undefined;
  readonly markFailed: Statement;
  readonly insertFanout: Statement;
}

/** Outbox ids are bigint: only such text may be inlined into SQL (markPublishedAndCommit). */
const INTEGER_TEXT = /^-?\d{1,19}$/;

export function markStatements(table: string, onPublish: OnPublish): MarkStatements {
  const markPublishedSql = (ids: string): string =>
    onPublish === 'mark'
      ? // The gem's success bookkeeping: published_at set, failure columns cleared, attempts kept,
        // updated_at untouched. clock_timestamp(), not now(): the transaction began at claim time,
        // and published_at - created_at is the latency operators watch.
        `UPDATE ${table}
            SET published_at = clock_timestamp() AT TIME ZONE 'UTC',
                failed_at = NULL, retry_at = NULL, error_class = NULL, error_message = NULL
          WHERE id = ANY(${ids})`
      : // on_publish = delete: no history is kept, so a published row is removed instead of
        // updated; one index deletion instead of eight index insertions, and no bloat to vacuum.
        `DELETE FROM ${table} WHERE id = ANY(${ids})`;
  return {
    markPublished: { name: onPublish === 'mark' ? 'dionysus_relay_mark_published' : 'dionysus_relay_mark_deleted', text: markPublishedSql('$1::bigint[]') },
    // The same mark and the COMMIT in one round trip (simple query protocol, so the ids are an
    // inlined array literal): the last two statements of a batch without failures. Only digits are
    // ever inlined; anything else falls back to the parameterized statement and a separate COMMIT.
    markPublishedAndCommit: (ids) => (ids.length > 0 && ids.every((id) => INTEGER_TEXT.test(id)) ? `${markPublishedSql(`'{${ids.join(',')}}'::bigint[]`)}; COMMIT` : undefined),
    markFailed: {
      name: 'dionysus_relay_mark_failed',
      // The gem's failure bookkeeping, one statement for all failed rows of a batch. The delay is
      // computed by the retry schedule in Node (cap, jitter) from the attempts the claim read; the
      // row lock guarantees attempts did not change since. A row given up gets retry_at =
      // 'infinity': never pending again (for this relay and the gem's worker alike), still
      // readable by ActiveRecord (Float::INFINITY), and visible by `retry_at = 'infinity'`.
      text: `UPDATE ${table} AS o
                SET error_class = f.error_class,
                    error_message = f.error_message,
                    failed_at = clock_timestamp() AT TIME ZONE 'UTC',
                    updated_at = clock_timestamp() AT TIME ZONE 'UTC',
                    attempts = o.attempts + 1,
                    retry_at = CASE WHEN f.give_up THEN 'infinity'::timestamp
                                    ELSE (clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => f.delay_ms / 1000) END
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::float8[], $5::bool[])
                    AS f(id, error_class, error_message, delay_ms, give_up)
              WHERE o.id = f.id`,
    },
    insertFanout: {
      name: 'dionysus_relay_insert_fanout',
      // An observer fan-out too large to send inline becomes ordinary outbox rows of the target
      // topic, written in the observer row's own claim transaction: they exist if and only if the
      // observer row is marked published, and are then published (and retried) like any other row.
      text: `INSERT INTO ${table} (resource_class, resource_id, event_name, topic, created_at, updated_at)
             SELECT $1, id, $3, $4, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' FROM unnest($2::text[]) AS id`,
    },
  };
}
