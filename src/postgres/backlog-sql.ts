import type { Statement } from './statement';

/**
 * The backlog poller's statements (observability/backlog-poller.ts). Read-only, outside any claim
 * transaction, no lock beyond AccessShare: they cannot interfere with claims or marks.
 */

/**
 * Pending rows and the oldest one's age, per topic, of the (quoted) outbox table: configured topics
 * feed the backlog gauges, the others (rows this relay leaves to whoever owns them) the unconfigured
 * gauge. `published_at IS NULL` matches the partial publishing index, so only unpublished rows are
 * visited however long the published history is. Rows waiting for a retry count (they are late);
 * given-up rows (retry_at = 'infinity') do not: they will never be published, and counting them
 * would pin the oldest-age alert on forever.
 */
export function backlogStatement(table: string): Statement {
  return {
    name: 'dionysus_relay_backlog',
    text: `SELECT topic,
                 count(*)::float8 AS pending,
                 extract(epoch FROM (now() AT TIME ZONE 'UTC') - min(created_at))::float8 AS oldest_age_seconds
            FROM ${table}
           WHERE published_at IS NULL
             AND retry_at IS DISTINCT FROM 'infinity'::timestamp
           GROUP BY topic`,
  };
}

/**
 * Vacuum and size figures of the outbox table (a queue table lives on autovacuum keeping up with
 * its dead tuples). $1 is the quoted schema-qualified name; catalog reads only. The vacuum age is
 * NULL when the table was never vacuumed since statistics were reset.
 */
export const TABLE_HEALTH: Statement = {
  name: 'dionysus_relay_table_health',
  text: `SELECT coalesce(s.n_dead_tup, 0)::float8 AS dead_tuples,
                extract(epoch FROM now() - greatest(s.last_autovacuum, s.last_vacuum))::float8 AS vacuum_age_seconds,
                pg_table_size(c.oid)::float8 AS table_bytes,
                pg_indexes_size(c.oid)::float8 AS index_bytes
           FROM pg_class c
           LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
          WHERE c.oid = to_regclass($1)`,
};
