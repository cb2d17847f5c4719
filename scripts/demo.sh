#!/usr/bin/env bash
# npm run demo: from a fresh machine to messages in Kafka. Installs what is missing, starts
# PostgreSQL and Kafka, applies the schema, loads the example users, runs the relay on
# config/topics.yaml and shows the messages as they arrive.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${DATABASE_URL:-postgres://dionysus:dionysus@127.0.0.1:5432/dionysus_relay}"
export DATABASE_SCHEMA="${DATABASE_SCHEMA:-dionysus_demo}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
export TOPICS_FILE="${TOPICS_FILE:-config/topics.yaml}"
export PGPASSWORD="${PGPASSWORD:-dionysus}"
# Runs SQL from stdin in the demo schema.
psql_demo() { { echo "SET search_path = $DATABASE_SCHEMA;"; cat; } | psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL"; }

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

step "running the relay (dionysus-relay run) and reading dionysus_demo_users from Kafka"
node scripts/demo-consume.js dionysus_demo_users 14 &
consumer=$!
LOG_FORMAT=pretty node dist/cli/bin.js run &
relay=$!
sleep 5
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

step "stopping the relay (SIGTERM drains gracefully)"
kill -TERM "$relay"
wait "$relay" || true
echo "SELECT count(*) FILTER (WHERE published_at IS NOT NULL) AS published, count(*) FILTER (WHERE published_at IS NULL) AS pending FROM dionysus_outboxes;" | psql_demo
echo
echo "Done. Run it again to add more users; 'bash scripts/services.sh stop' stops PostgreSQL and Kafka."
