import type { Statement } from './statement';

/**
 * Active slots: of the relays running against one outbox table, at most `relay.activeSlots` claim.
 * Slot n of a table is the session-level advisory lock (namespace, n), where the namespace is a
 * hash of the qualified outbox table, so that relays of two outboxes in one database do not share
 * slots. The two-key form keeps slots apart from the one-key (bigint) locks of resources and
 * instances: pg_locks shows them with objsubid = 2.
 */

/** The slot namespace of the outbox table named by the SQL expression `table` (its quoted, qualified name). */
function slotNamespace(table: string): string {
  return `hashtext('dionysus_relay_slot:' || ${table})`;
}

/**
 * Takes slot $2 of table $1 if no other session holds it, without waiting. Run on a connection of
 * its own that the relay keeps for its lifetime: the lock lasts as long as that session, so when
 * the relay dies (or its connection is cut) the server releases the slot and a standby's next try
 * takes it. Session-level, not transaction-level: no transaction stays open on the connection.
 * A relay asks only while it holds no slot, so it never stacks a second lock on one it holds.
 */
export const TRY_SLOT: Statement = {
  name: 'dionysus_relay_try_slot',
  text: `SELECT pg_try_advisory_lock(${slotNamespace('$1::text')}, $2::int) AS taken`,
};

/**
 * The slots of table $1 held now, and by which backend: for `check`, tests and operators. Reads
 * pg_locks, which takes no lock of its own (it does take the lock manager's partition locks briefly).
 */
export const SLOT_HOLDERS: Statement = {
  name: 'dionysus_relay_slot_holders',
  text: `SELECT l.objid::int AS slot, l.pid
           FROM pg_locks AS l
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
            AND l.classid = (${slotNamespace('$1::text')})::oid
          ORDER BY l.objid`,
};
