import { instanceAlive } from './lock-sql';
import type { Statement } from './statement';

/**
 * The statements of crash tracking (sql/003, sql/004): kept apart from the outbox statements
 * because they touch only the relay's own bookkeeping tables, outside any claim transaction.
 */

/**
 * The in-flight entries must outlive the relay process, not the database: a database crash ends
 * every claim anyway. So their writes commit without waiting for the WAL flush (set_config(...,
 * true) lasts until the end of the statement's own implicit transaction): each would otherwise
 * wait for an fsync on every batch's way to Kafka. After a PostgreSQL crash (not a clean restart,
 * which flushes) the last entries can be missing: crashes of relays that died with it are not
 * counted, and the frozen-relay guard does not see them.
 */
const NO_FLUSH_WAIT = `(SELECT set_config('synchronous_commit', 'off', true)) AS no_flush_wait`;

export const crashTrackerSql = {
  // Autocommit, before the batch loads anything: the entry must outlive a crash of this process.
  // The suspects among the batch's rows come back in the same round trip.
  begin: {
    name: 'dionysus_relay_inflight_begin',
    text: `WITH entry AS (INSERT INTO dionysus_relay_inflight (instance, row_ids) SELECT $1, $2::bigint[] FROM ${NO_FLUSH_WAIT} RETURNING id)
           SELECT (SELECT id FROM entry) AS id,
                  coalesce((SELECT array_agg(row_id) FROM dionysus_relay_suspects WHERE row_id = ANY($2::bigint[])), '{}') AS suspects`,
  },
  // With sql/004: the claim transaction's id, written with the entry (see LOCK_RESOURCES_GUARDED in lock-sql.ts).
  beginWithXid: {
    name: 'dionysus_relay_inflight_begin_xid',
    text: `WITH entry AS (INSERT INTO dionysus_relay_inflight (instance, row_ids, claim_xid) SELECT $1, $2::bigint[], $3::bigint FROM ${NO_FLUSH_WAIT} RETURNING id)
           SELECT (SELECT id FROM entry) AS id,
                  coalesce((SELECT array_agg(row_id) FROM dionysus_relay_suspects WHERE row_id = ANY($2::bigint[])), '{}') AS suspects`,
  },
  // With sql/004, when the batch's resources are known before it loads anything (every row publishes
  // only itself): the entry and its resource keys in one statement, sent while the claim connection
  // takes the resources' locks. The keys need only be written before anything is sent (see
  // LOCK_RESOURCES_GUARDED in lock-sql.ts); the caller awaits both before loading.
  beginWithKeys: {
    name: 'dionysus_relay_inflight_begin_keys',
    text: `WITH entry AS (INSERT INTO dionysus_relay_inflight (instance, row_ids, claim_xid, resource_keys)
                          SELECT $1, $2::bigint[], $3::bigint, $4::text[] FROM ${NO_FLUSH_WAIT} RETURNING id)
           SELECT (SELECT id FROM entry) AS id,
                  coalesce((SELECT array_agg(row_id) FROM dionysus_relay_suspects WHERE row_id = ANY($2::bigint[])), '{}') AS suspects`,
  },
  // Autocommit, after the batch holds its resource locks and before it sends anything: the keys a
  // frozen relay may still publish (see LOCK_RESOURCES_GUARDED in lock-sql.ts).
  registerKeys: {
    name: 'dionysus_relay_inflight_keys',
    text: `UPDATE dionysus_relay_inflight SET resource_keys = $2::text[] FROM ${NO_FLUSH_WAIT} WHERE id = $1`,
  },
  // A suspect isolated from its batch: only its id stays registered as in flight.
  narrow: { name: 'dionysus_relay_inflight_narrow', text: `UPDATE dionysus_relay_inflight SET row_ids = $2::bigint[] WHERE id = $1` },
  // The same when the batch's resource keys were registered with its entry: the suspect's only.
  narrowWithKeys: {
    name: 'dionysus_relay_inflight_narrow_keys',
    text: `UPDATE dionysus_relay_inflight SET row_ids = $2::bigint[], resource_keys = $3::text[] WHERE id = $1`,
  },
  // Only once nothing of the batch can still be sent (delivered, failed or never queued): while the
  // entry exists, other relays' guard may hold its resources back and a crash counts against its rows.
  end: { name: 'dionysus_relay_inflight_end', text: `DELETE FROM dionysus_relay_inflight USING ${NO_FLUSH_WAIT} WHERE id = ANY($1::bigint[])` },
  // This instance's entries of no batch in progress ($2: those in progress): left by a failed
  // deletion; while this instance lives they would hold resources back from other relays. Entries
  // younger than 10 s are spared: one may belong to a batch whose registration has committed but
  // whose answer had not arrived when $2 was taken.
  sweepOwn: {
    name: 'dionysus_relay_inflight_sweep_own',
    text: `DELETE FROM dionysus_relay_inflight USING ${NO_FLUSH_WAIT}
            WHERE instance = $1 AND id <> ALL($2::bigint[]) AND started_at < now() - interval '10 seconds'`,
  },
  // A published suspect was innocent (it was only in a crashed batch): forget it.
  clear: { name: 'dionysus_relay_suspects_clear', text: `DELETE FROM dionysus_relay_suspects WHERE row_id = ANY($1::bigint[])` },
  // Entries of instances that are not alive (instanceAlive) are crashes: count their rows and drop
  // them. FOR UPDATE SKIP LOCKED so two relays starting together count each crash once.
  recover: {
    name: 'dionysus_relay_inflight_recover',
    text: `WITH dead AS (
              DELETE FROM dionysus_relay_inflight AS f
               WHERE f.id IN (SELECT i.id FROM dionysus_relay_inflight i
                               WHERE NOT ${instanceAlive('i.instance')}
                               FOR UPDATE SKIP LOCKED)
              RETURNING f.row_ids)
            INSERT INTO dionysus_relay_suspects (row_id, crashes)
            SELECT r, count(*) FROM dead, unnest(dead.row_ids) AS r GROUP BY r
            ON CONFLICT (row_id) DO UPDATE SET crashes = dionysus_relay_suspects.crashes + excluded.crashes, last_crash_at = now()
            RETURNING row_id, crashes`,
  },
} satisfies Record<string, Statement>;

/** Suspects that crashed a relay $1 times or more are given up as POISON_ROW (if still pending). */
export function setAsideStatement(table: string): Statement {
  return {
    name: 'dionysus_relay_suspects_set_aside',
    text: `WITH poison AS (
              DELETE FROM dionysus_relay_suspects WHERE crashes >= $1 RETURNING row_id, crashes)
            UPDATE ${table} AS o
               SET error_class = 'POISON_ROW',
                   error_message = 'crashed or wedged a relay ' || p.crashes || ' times while in flight; set aside',
                   failed_at = clock_timestamp() AT TIME ZONE 'UTC', updated_at = clock_timestamp() AT TIME ZONE 'UTC',
                   attempts = o.attempts + 1, retry_at = 'infinity'
              FROM poison p
             WHERE o.id = p.row_id AND o.published_at IS NULL
            RETURNING o.id, o.topic, o.resource_class, o.resource_id`,
  };
}
