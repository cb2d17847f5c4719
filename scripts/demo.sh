#!/usr/bin/env bash
# npm run demo: from a fresh machine to messages in Kafka, and back into a consumer's table.
# Installs what is missing, starts PostgreSQL and Kafka, applies the schema, loads the example
# users, runs the relay on config/topics.yaml and shows the messages as they arrive, while the
# sink (config/sink.yaml) fills the consuming application's users table.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://dionysus:dionysus@127.0.0.1:5432/dionysus_relay}"
export DATABASE_SCHEMA="${DATABASE_SCHEMA:-dionysus_demo}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
export TOPICS_FILE="${TOPICS_FILE:-config/topics.yaml}"
export PGPASSWORD="${PGPASSWORD:-dionysus}"
# Runs SQL from stdin in the demo schema.
psql_demo() { { echo "SET search_path = $DATABASE_SCHEMA;"; cat; } | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL"; }
# The consuming application's schema (the sink writes there).
CONSUMER_SCHEMA="${CONSUMER_SCHEMA:-dionysus_demo_consumer}"
psql_consumer() { { echo "SET search_path = $CONSUMER_SCHEMA;"; cat; } | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL"; }
show_consumer() { echo "SELECT id, name, synced_id, synced_created_at, synced_updated_at, synced_data FROM users ORDER BY id;" | psql_consumer; }

step() { printf '\n== %s\n' "$*"; }

if [ ! -d node_modules/node-rdkafka/build/Release ]; then
  step "installing dependencies (npm ci; node-rdkafka compiles librdkafka, about 3 minutes)"
  npm ci
fi

step "compiling (tsc)"
npm run --silent build

step "starting PostgreSQL and Kafka"
bash scripts/services.sh start

step "schema $DATABASE_SCHEMA: dionysus_outboxes (dionysus-relay migrate)"
node dist/cli/bin.js migrate

step "loading the example users (config/demo/users.sql), each with its outbox row"
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<SQL
SET search_path = $DATABASE_SCHEMA;
\i config/demo/users.sql
SQL
echo "SELECT id, resource_class, resource_id, event_name, topic, published_at FROM dionysus_outboxes ORDER BY id DESC LIMIT 5;" | psql_demo

step "the consuming application: schema $CONSUMER_SCHEMA, its users table (config/demo/consumer.sql)"
echo "CREATE SCHEMA IF NOT EXISTS $CONSUMER_SCHEMA;" | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL"
psql_consumer < config/demo/consumer.sql

step "running the relay (dionysus-relay run), reading dionysus_demo_users from Kafka, and the sink (dionysus-relay sink) filling $CONSUMER_SCHEMA.users"
node scripts/demo-consume.js dionysus_demo_users 14 &
consumer=$!
LOG_FORMAT=pretty node dist/cli/bin.js run &
relay=$!
# The sink once the topic exists (the demo consumer creates it), so it is assigned at once.
sleep 2
DATABASE_SCHEMA="$CONSUMER_SCHEMA" HTTP_PORT="${SINK_HTTP_PORT:-9395}" LOG_FORMAT=pretty node dist/cli/bin.js sink --sink config/sink.yaml &
sink=$!
sleep 4
step "the consumer's users table, filled by the sink"
show_consumer
step "a live change: Dionysus is renamed in the same transaction as its outbox row"
psql_demo <<SQL
BEGIN;
UPDATE users SET name = 'Dionysus, god of wine', updated_at = now() AT TIME ZONE 'UTC' WHERE name = 'Dionysus';
INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
SELECT 'User', id::text, 'user_updated', 'dionysus_demo_users', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
  FROM users WHERE name = 'Dionysus, god of wine';
COMMIT;
SQL
wait "$consumer" || true

step "the rename arrived in the consumer's table (synced_updated_at moved, synced_data follows)"
show_consumer

step "stopping the relay and the sink (SIGTERM drains gracefully, the sink commits what it applied)"
kill -TERM "$relay" "$sink"
wait "$relay" || true
wait "$sink" || true
echo "SELECT count(*) FILTER (WHERE published_at IS NOT NULL) AS published, count(*) FILTER (WHERE published_at IS NULL) AS pending FROM dionysus_outboxes;" | psql_demo
echo
echo "Done. Run it again to add more users; 'bash scripts/services.sh stop' stops PostgreSQL and Kafka."
