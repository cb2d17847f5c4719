-- Progress of `dionysus-relay genesis` runs (the relay's own bookkeeping; the gem never reads it).
-- One row per run; a run is resumed with `genesis --resume <id>` from last_id.
--
-- last_id is text whatever the model's key type (bigint, uuid, string); the id query casts it
-- back to the id column's type, so keyset pagination compares like with like.
-- sent/skipped/last_id are written only after every message of a page was acknowledged by Kafka:
-- a resumed run repeats at most the page that was in flight (at-least-once, never a gap).
-- status: running (also after kill -9: the process could not say otherwise), done, failed,
-- interrupted (SIGTERM/SIGINT, stopped cleanly after a page).
CREATE TABLE IF NOT EXISTS dionysus_relay_genesis_runs (
  id             bigserial PRIMARY KEY,
  topic          text NOT NULL,
  model          text NOT NULL,
  options        jsonb NOT NULL DEFAULT '{}'::jsonb,
  last_id        text,
  sent           bigint NOT NULL DEFAULT 0,
  skipped        bigint NOT NULL DEFAULT 0,
  total_estimate bigint,
  status         text NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
  error          text,
  started_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz
);
