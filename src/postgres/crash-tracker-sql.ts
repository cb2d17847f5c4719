/**
 * The statements of crash tracking (sql/003): kept apart from the outbox statements because they
 * touch only the relay's own bookkeeping tables.
 */
export const crashTrackerSql = {
  tablesExist: `SELECT to_regclass('dionysus_relay_inflight') IS NOT NULL AND to_regclass('dionysus_relay_suspects') IS NOT NULL AS ok`,
  // Autocommit, before the batch loads anything: the entry must outlive a crash of this process.
  // The suspects among the batch's rows come back in the same round trip.
  begin: {
    name: 'dionysus_relay_inflight_begin',
    text: `WITH entry AS (INSERT INTO dionysus_relay_inflight (instance, row_ids) VALUES ($1, $2::bigint[]) RETURNING id)
           SELECT (SELECT id FROM entry) AS id,
                  coalesce((SELECT array_agg(row_id) FROM dionysus_relay_suspects WHERE row_id = ANY($2::bigint[])), '{}') AS suspects`,
  },
  // A suspect isolated from its batch: only its id stays registered as in flight.
  narrow: { name: 'dionysus_relay_inflight_narrow', text: `UPDATE dionysus_relay_inflight SET row_ids = $2::bigint[] WHERE id = $1` },
  end: { name: 'dionysus_relay_inflight_end', text: `DELETE FROM dionysus_relay_inflight WHERE id = $1` },
  // A published suspect was innocent (it was only in a crashed batch): forget it.
  clear: { name: 'dionysus_relay_suspects_clear', text: `DELETE FROM dionysus_relay_suspects WHERE row_id = ANY($1::bigint[])` },
  // Entries of instances without a live connection are crashes: count their rows and drop them.
  // FOR UPDATE SKIP LOCKED so two relays starting together count each crash once.
  // An instance is alive while its session-level advisory lock (`holdInstance`) is held: the lock
  // goes with the holding connection, i.e. with the process. (application_name would not do: a
  // DATABASE_URL may set its own.)
  holdInstance: `SELECT pg_advisory_lock(hashtextextended('dionysus_relay_instance:' || $1, 0))`,
  recover: `WITH dead AS (
              DELETE FROM dionysus_relay_inflight AS f
               WHERE f.id IN (SELECT i.id FROM dionysus_relay_inflight i
                               WHERE NOT EXISTS (
                                 SELECT 1 FROM pg_locks l
                                  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                                    AND ((l.classid::bigint << 32) | l.objid::bigint)
                                        = hashtextextended('dionysus_relay_instance:' || i.instance, 0))
                               FOR UPDATE SKIP LOCKED)
              RETURNING f.row_ids)
            INSERT INTO dionysus_relay_suspects (row_id, crashes)
            SELECT r, count(*) FROM dead, unnest(dead.row_ids) AS r GROUP BY r
            ON CONFLICT (row_id) DO UPDATE SET crashes = dionysus_relay_suspects.crashes + excluded.crashes, last_crash_at = now()
            RETURNING row_id, crashes`,
  // Suspects that crashed a relay $1 times or more are given up as POISON_ROW (if still pending).
  setAside: (table: string): string => `WITH poison AS (
              DELETE FROM dionysus_relay_suspects WHERE crashes >= $1 RETURNING row_id, crashes)
            UPDATE ${table} AS o
               SET error_class = 'POISON_ROW',
                   error_message = 'crashed or wedged a relay ' || p.crashes || ' times while in flight; set aside',
                   failed_at = clock_timestamp() AT TIME ZONE 'UTC', updated_at = clock_timestamp() AT TIME ZONE 'UTC',
                   attempts = o.attempts + 1, retry_at = 'infinity'
              FROM poison p
             WHERE o.id = p.row_id AND o.published_at IS NULL
            RETURNING o.id, o.topic, o.resource_class, o.resource_id`,
} as const;
