-- Crash tracking: finds rows that crash or wedge a relay process, so they can be set aside.
-- Relay bookkeeping only; the outbox table is not changed. Without these tables the relay runs,
-- with crash tracking off (it logs a warning).
--
-- dionysus_relay_inflight: one row per batch being worked on, written outside the batch's
-- transaction so it survives the process. A relay deletes its entry when the batch ends; an entry
-- whose relay instance has no connection left (pg_stat_activity) belongs to a crashed process.
CREATE TABLE IF NOT EXISTS dionysus_relay_inflight (
  id bigserial PRIMARY KEY,
  instance text NOT NULL,
  row_ids bigint[] NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now()
);

-- dionysus_relay_suspects: outbox rows that were in flight when a relay crashed, with how often.
-- A suspect is published alone (never with innocent rows), so only the guilty row's count grows.
CREATE TABLE IF NOT EXISTS dionysus_relay_suspects (
  row_id bigint PRIMARY KEY,
  crashes integer NOT NULL,
  last_crash_at timestamptz NOT NULL DEFAULT now()
);
