#!/usr/bin/env bash
# npm test: the whole suite on a fresh machine. Starts the real services (PostgreSQL, Kafka),
# compiles, lints, then runs unit tests and integration tests against those services.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

# Services on other ports (DIONYSUS_PG_PORT, DIONYSUS_KAFKA_PORT; see scripts/services.sh): the
# tests, the fault suite and the benchmark find them through TEST_DATABASE_URL and TEST_KAFKA_BROKERS.
if [[ -n "${DIONYSUS_PG_PORT:-}" ]]; then
  export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://dionysus:dionysus@127.0.0.1:${DIONYSUS_PG_PORT}/dionysus_relay}"
fi
if [[ -n "${DIONYSUS_KAFKA_PORT:-}" ]]; then
  export TEST_KAFKA_BROKERS="${TEST_KAFKA_BROKERS:-127.0.0.1:${DIONYSUS_KAFKA_PORT}}"
fi

step "services (PostgreSQL 15, Kafka KRaft broker)"
bash scripts/services.sh start

step "differential oracle's reference: Debian's ruby-activerecord, ruby-activesupport, ruby-pg (6.1)"
bash scripts/oracle-deps.sh

# Both output folders are emptied first, so no compiled copy of a deleted file (a test that no
# longer exists, a module that moved) can run or be shipped.
step "compile (tsc, strict)"
npm run --silent build
npm run --silent build:test

step "lint (eslint)"
npx eslint --max-warnings 0 .

step "unit tests"
node scripts/run-tests.js unit

step "integration tests (real PostgreSQL and Kafka)"
node scripts/run-tests.js integration

# Twelve relay processes on three active slots with an application writing beside them: lock
# budget, slot limit and takeover after kill -9 (docs/sizing.md). Before the fault suite, which
# restarts the services.
step "replicas: active slots and the lock budget (test/faults/replicas.test.ts)"
node --test build/test/faults/replicas.test.js

# Last and alone: the fault suite stops and restarts the shared PostgreSQL and Kafka, so nothing may
# run next to it. Whatever its outcome, both services are started again and checked before exiting.
step "fault suite, CI scale (kill -9, Kafka stop, PostgreSQL restart, SIGSTOP; see docs/reliability.md)"
node --test build/test/faults/analysis.test.js
faults_rc=0
node --enable-source-maps build/test/faults/run.js --scale ci || faults_rc=$?
bash scripts/services.sh start
bash scripts/services.sh status
exit "$faults_rc"
