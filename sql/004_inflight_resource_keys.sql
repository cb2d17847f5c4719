-- Frozen-relay guard for snapshot ordering (see lockResourcesGuarded in src/postgres/outbox-sql.ts).
-- Relay bookkeeping only; the outbox table is not changed. Without these columns the relay runs
-- without the guard (it logs a warning): a relay frozen past idle_in_transaction_session_timeout
-- could then send an older state after another relay sent a newer one.
--
-- claim_xid: the id of the batch's claim transaction; while it is in progress, its advisory locks
-- protect its resources, and once it has committed, its messages were delivered.
-- resource_keys: the resources (topic:model:id) the batch locked, written before it sends anything.
-- (Entries belong to a crashed process when their instance's advisory lock is no longer held; the
-- comment in 003 about pg_stat_activity predates that.)
ALTER TABLE dionysus_relay_inflight
  ADD COLUMN IF NOT EXISTS claim_xid bigint,
  ADD COLUMN IF NOT EXISTS resource_keys text[];
