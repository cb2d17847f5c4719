-- Demo data for `npm run demo`: the walk-through of the dionysus-rb introduction.
-- Each user is inserted together with its outbox row in one transaction, as the gem does.
CREATE TABLE IF NOT EXISTS users (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  created_at timestamp(6) NOT NULL,
  updated_at timestamp(6) NOT NULL
);

BEGIN;
INSERT INTO users (name, created_at, updated_at)
VALUES ('Dionysus', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC');
INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
VALUES ('User', currval('users_id_seq')::text, 'user_created', 'dionysus_demo_users', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC');
COMMIT;

BEGIN;
INSERT INTO users (name, created_at, updated_at)
SELECT n, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' FROM unnest(ARRAY['Ariadne', 'Semele', 'Silenus <& friends>', 'Maenad é 日本']) AS n;
INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
SELECT 'User', id::text, 'user_created', 'dionysus_demo_users', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
  FROM users WHERE name <> 'Dionysus' AND id > currval('users_id_seq') - 4;
COMMIT;
