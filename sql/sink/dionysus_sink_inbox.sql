-- The sink's optional inbox (`inbox: {table: dionysus_sink_inbox}` in the sink YAML): events other
-- than *_created, *_updated and *_destroyed are not persisted into synced tables; the sink records
-- them here, in the same transaction as the rest of their batch, for the application to react to
-- (the gem hands them to its event bus instead). Apply it in the consuming application's database
-- like any of its migrations. The unique key makes a redelivered message a no-op.
CREATE TABLE IF NOT EXISTS dionysus_sink_inbox (
  id bigserial PRIMARY KEY,
  topic text NOT NULL,
  "partition" integer NOT NULL,
  "offset" bigint NOT NULL,
  event_index integer NOT NULL,
  message_key text,
  event_name text NOT NULL,
  model_name text NOT NULL,
  data jsonb,
  received_at timestamptz NOT NULL DEFAULT now(),
  -- for the application: set when it has handled the event
  processed_at timestamptz,
  UNIQUE (topic, "partition", "offset", event_index)
);

CREATE INDEX IF NOT EXISTS dionysus_sink_inbox_unprocessed ON dionysus_sink_inbox (id) WHERE processed_at IS NULL;
