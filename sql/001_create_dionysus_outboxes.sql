-- dionysus_outboxes as the dionysus-rb gem's migration creates it (gem 0.5.0), for new installs
-- and tests. Applications that already have the table keep it: every statement is IF NOT EXISTS,
-- and the relay never changes an existing table.
--
-- Timestamps are `timestamp without time zone` holding UTC, written by the application clock
-- (Rails' `t.datetime`); created_at/updated_at have precision 6 as in the gem.
CREATE TABLE IF NOT EXISTS dionysus_outboxes (
  id             bigserial PRIMARY KEY,
  resource_class character varying NOT NULL,
  resource_id    character varying NOT NULL,
  event_name     character varying NOT NULL,
  topic          character varying NOT NULL,
  partition_key  character varying,
  published_at   timestamp without time zone,
  failed_at      timestamp without time zone,
  retry_at       timestamp without time zone,
  error_class    character varying,
  error_message  character varying,
  attempts       integer NOT NULL DEFAULT 0,
  created_at     timestamp(6) without time zone NOT NULL,
  updated_at     timestamp(6) without time zone NOT NULL,
  -- Optional in the gem (observer rows only): {"attribute": [old, new]}.
  changeset      jsonb
);

-- The publishing index: the only one the relay's claim needs. Partial, so it holds only
-- unpublished rows and stays small however long the published history grows.
CREATE INDEX IF NOT EXISTS index_dionysus_outboxes_publishing_idx
  ON dionysus_outboxes (topic, created_at) WHERE published_at IS NULL;

-- The gem's convenience indexes (console look-ups, archiving). The relay does not use them, but
-- every update of a row writes each of them, so they are kept here to measure what applications pay.
CREATE INDEX IF NOT EXISTS index_dionysus_outboxes_on_resource_class_and_event
  ON dionysus_outboxes (resource_class, event_name);
CREATE INDEX IF NOT EXISTS index_dionysus_outboxes_on_resource_class_and_resource_id
  ON dionysus_outboxes (resource_class, resource_id);
CREATE INDEX IF NOT EXISTS index_dionysus_outboxes_on_topic
  ON dionysus_outboxes (topic);
CREATE INDEX IF NOT EXISTS index_dionysus_outboxes_on_created_at
  ON dionysus_outboxes (created_at);
CREATE INDEX IF NOT EXISTS index_dionysus_outboxes_on_resource_class_and_created_at
  ON dionysus_outboxes (resource_class, created_at);
CREATE INDEX IF NOT EXISTS index_dionysus_outboxes_on_resource_class_and_published_at
  ON dionysus_outboxes (resource_class, published_at);
CREATE INDEX IF NOT EXISTS index_dionysus_outboxes_on_published_at
  ON dionysus_outboxes (published_at);
