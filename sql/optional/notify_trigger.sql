-- Optional: wake relays as soon as outbox rows are committed, instead of waiting for the next poll.
-- Apply with `dionysus-relay migrate --with notify_trigger`; relays LISTEN on dionysus_relay_outbox
-- when RELAY_LISTEN_NOTIFY=true (default), polling stays the fallback.
--
-- A statement-level trigger sends one notification per INSERT statement, and Postgres folds
-- identical notifications of one transaction into one, so a bulk insert costs one NOTIFY, delivered
-- at commit (never for a rolled-back transaction). The payload is empty: a wake-up, not data.
CREATE OR REPLACE FUNCTION dionysus_relay_notify_outbox() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('dionysus_relay_outbox', '');
  RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS dionysus_relay_notify_outbox ON dionysus_outboxes;
CREATE TRIGGER dionysus_relay_notify_outbox
  AFTER INSERT ON dionysus_outboxes
  FOR EACH STATEMENT EXECUTE FUNCTION dionysus_relay_notify_outbox();
