-- The consuming application of `npm run demo` (its own schema, as if it were another service's
-- database): the users table of the dionysus-rb introduction. Its own ids; the remote id in
-- synced_id (unique: the sink upserts on it), the remote timestamps and the whole record.
CREATE TABLE IF NOT EXISTS users (
  id bigserial PRIMARY KEY,
  name text,
  synced_id bigint NOT NULL UNIQUE,
  synced_created_at timestamp(6),
  synced_updated_at timestamp(6),
  synced_canceled_at timestamp(6),
  synced_data jsonb
);
