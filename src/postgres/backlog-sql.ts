import type { Statement } from './statement';

/**
 * The backlog poller's statements (observability/backlog-poller.ts). Read-only, outside any claim
 * transaction, no lock beyond AccessShare: they cannot interfere with claims or marks.
 */

/**
 * Pending rows, the oldest one's age and given-up rows, per topic, of the (quoted) outbox table:
 * configured topics feed the backlog gauges, the others (rows this relay leaves to whoever owns
 * them) the unconfigured gauge. `published_at IS NULL` matches the partial publishing index, so
 * only unpublished rows are visited however long the published history is; a given-up row is one
 * of them (never published), so one walk counts both, and a topic whose rows are all given up
 * comes back with pending 0 and no oldest age. Rows waiting for a retry are pending (they are
 * late); given-up rows (retry_at = 'infinity', after RETRY_MAX_ATTEMPTS failures or set aside as
 * POISON_ROW) are not: they will never be published, and counting them would pin the oldest-age
 * alert on forever. They are counted apart, for the rows-given-up alert.
 */
export function backlogStatement(table: string): Statement {
  const notGivenUp = `retry_at IS DISTINCT FROM 'infinity'::timestamp`;
  return {
    name: 'dionysus_relay_backlog',
    text: `SELECT topic,
                 (count(*) FILTER (WHERE ${notGivenUp}))::float8 AS pending,
                 extract(epoch FROM (now() AT TIME ZONE 'UTC') - min(created_at) FILTER (WHERE ${notGivenUp}))::float8 AS oldest_age_seconds,
                 (count(*) FILTER (WHERE retry_at = 'infinity'::timestamp))::float8 AS given_up
            FROM ${table}
           WHERE published_at IS NULL
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
