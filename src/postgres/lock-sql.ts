import type { Statement } from './statement';

/**
 * Advisory locks: a batch's resource locks (and the frozen-relay guard that goes with them), each
 * relay instance's liveness lock, and the shared lock table they all live in.
 */

/** The advisory lock key of a relay instance, for the SQL expression `instance` (its id). */
function instanceLockKey(instance: string): string {
  return `hashtextextended('dionysus_relay_instance:' || ${instance}, 0)`;
}

/**
 * Taken by each relay process on a connection of its own, for its lifetime (session-level): the
 * lock goes with the connection, i.e. with the process. (application_name would not do: a
 * DATABASE_URL may set its own.)
 */
export const LOCK_INSTANCE: Statement = {
  name: 'dionysus_relay_lock_instance',
  text: `SELECT pg_advisory_lock(${instanceLockKey('$1')})`,
};

/**
 * True while the relay instance named by the SQL expression `instance` is alive: its LOCK_INSTANCE
 * lock is held.
 */
export function instanceAlive(instance: string): string {
  return `EXISTS (SELECT 1 FROM pg_locks l
                   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                     AND ((l.classid::bigint << 32) | l.objid::bigint)
                         = ${instanceLockKey(instance)})`;
}

// Snapshot ordering across relays: before a batch reads the state of its resources it takes a
// transaction-scoped advisory lock per resource (topic, class, id), held until its marks commit,
// i.e. after delivery. A resource whose lock another batch holds (of this relay or another) is not
// waited for: its key comes back in `busy`, and the caller leaves the rows that publish it pending
// for a later claim, when that batch has committed and a newer state is read. Waiting instead would
// let one slow batch (a broker outage, a wedged producer) stall every batch that shares a single
// resource with it, i.e. nearly all of them under a hot working set. Try locks cannot deadlock,
// so the keys need no order (sorting a thousand of them cost the relay 0.6 µs a row); they come
// distinct from the caller.
const lockAll = `SELECT coalesce(array_agg(k) FILTER (WHERE NOT pg_try_advisory_xact_lock(hashtextextended(k, 0))), '{}') AS busy
                     FROM unnest($1::text[]) AS k`;

export const LOCK_RESOURCES: Statement = { name: 'dionysus_relay_lock_resources', text: lockAll };

/**
 * LOCK_RESOURCES, then the frozen-relay guard. When a relay process is frozen (SIGSTOP, a stalled
 * VM) past idle_in_transaction_session_timeout, PostgreSQL ends its claim transaction and its
 * resource locks go with it, but messages it had already handed to librdkafka are still queued in
 * the frozen process and are sent when it resumes. Publishing a newer state of those resources now
 * could be overtaken by that older one. So, once this batch holds its own locks, it looks for
 * in-flight entries (written outside their transactions) of other relay instances that are still
 * alive (their instance lock is held) but whose claim transaction did not commit and is no longer
 * running: their resource keys come back in `frozen`, and the caller leaves those rows pending
 * until that relay resumes and clears its entry (after its queued messages are delivered) or dies.
 * Normally no entry qualifies, and the guard costs a scan of a table with one row per batch in
 * flight. The guard runs in the target list of the locks' one-row result, so it can only run after
 * every lock was taken (or found busy). Needs sql/004's columns of dionysus_relay_inflight.
 */
export const LOCK_RESOURCES_GUARDED: Statement = {
  name: 'dionysus_relay_lock_resources_guarded',
  text: `SELECT busy, ARRAY(
               SELECT DISTINCT k
                 FROM dionysus_relay_inflight AS f, unnest(f.resource_keys) AS k
                WHERE f.instance <> $2
                  AND f.resource_keys IS NOT NULL
                  AND txid_status(f.claim_xid) IS DISTINCT FROM 'in progress'
                  AND txid_status(f.claim_xid) IS DISTINCT FROM 'committed'
                  AND ${instanceAlive('f.instance')}
                  AND k = ANY($1::text[])) AS frozen
             FROM (${lockAll}) AS l0`,
};

/**
 * The server's shared lock table, in slots: `max_locks_per_transaction × (max_connections +
 * max_prepared_transactions)`. Every resource lock of every batch in flight takes one, next to the
 * application's own locks; running out fails transactions with "out of shared memory".
 */
export const LOCK_TABLE_SLOTS_EXPRESSION = `current_setting('max_locks_per_transaction')::int
              * (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int)`;

/**
 * What one relay's resource locks (batch size × batches in flight) take of the lock table. Over
 * half of it is too much: two such relays would leave nothing to the application. `run` warns and
 * `check` says so.
 */
export function lockTableUse(locksPerRelay: number, slots: number): { readonly percent: number; readonly overHalf: boolean } {
  return { percent: Math.round((100 * locksPerRelay) / Math.max(1, slots)), overHalf: slots > 0 && locksPerRelay * 2 > slots };
}
