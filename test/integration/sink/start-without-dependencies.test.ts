import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Pool } from 'pg';
import { createTopic, uniqueNamespace } from '../../helpers/kafka';
import { ownServices, readyzWhen } from '../../helpers/own-services';
import { baseRelayEnv, cliPath, startRelay, type RelayProcess } from '../../helpers/relay-process';
import { envelope, produceValues, writeSinkFile } from '../../helpers/sink';
import { freePort, httpGet, waitFor } from '../observability/support';

// `sink` started before PostgreSQL and Kafka, as a sidecar may be: it answers /healthz (200) and
// /readyz (503, saying what it waits for) meanwhile, and applies once both answer, in the same
// process. It runs against a PostgreSQL and a Kafka of this test's own (scripts/services.sh with
// another state folder and other ports than the shared services and the relay's test of the same
// kind), which the test stops and starts. The consumer table and the topic are made beforehand,
// while those services run once, so that the sink finds them whichever service comes back first.

// Kafka on 9322 (controller 9323), clear of the relay's start test (9312, 9313).
const SERVICES = ownServices('/var/tmp/dionysus-relay-sink-start-test', 5572, 9322);
const DATABASE_URL = SERVICES.databaseUrl;
const BROKERS = SERVICES.brokers;
const services = SERVICES.run;

const namespace = uniqueNamespace('sinknodeps');
const topic = `${namespace}_users`;
const sinks: RelayProcess[] = [];

async function withDatabase<T>(body: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
  try {
    return await body(pool);
  } finally {
    await pool.end();
  }
}

before(async () => {
  await services('start', 'all');
  await withDatabase(async (pool) => {
    await pool.query(`CREATE SCHEMA ${namespace}`);
    await pool.query(`CREATE TABLE ${namespace}.users (id bigserial PRIMARY KEY, name text, synced_id bigint NOT NULL UNIQUE,
                      synced_created_at timestamp(6), synced_updated_at timestamp(6), synced_data jsonb)`);
  });
  await createTopic(topic, 2, {}, BROKERS);
  await services('stop', 'all');
});

after(async () => {
  for (const sink of sinks) sink.kill('SIGKILL');
  await services('stop', 'all');
});

function sinkFile(table: string): string {
  return writeSinkFile(`client_id: consumer_app\nnamespace: ${namespace}\ntopics:\n  users: {}\nmodels:\n  User:\n    table: ${table}\n`);
}

function sinkEnv(port: number): Record<string, string> {
  return {
    DATABASE_URL,
    DATABASE_SCHEMA: namespace,
    KAFKA_BROKERS: BROKERS,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    RELAY_START_RETRY_MAX_MS: '1000',
    SINK_POLL_WAIT_MS: '50',
  };
}

function startWaitingSink(port: number): RelayProcess {
  const sink = startRelay(['sink', '--sink', sinkFile('users')], sinkEnv(port));
  sinks.push(sink);
  return sink;
}

test('a signal while waiting stops the sink at once, cleanly (exit 0)', async () => {
  const port = await freePort();
  const sink = startWaitingSink(port);
  await readyzWhen(port, sink, 'a failed attempt at both', (status, body) => status === 503 && body.checks.postgres.failedAttempts !== undefined && body.checks.kafka.failedAttempts !== undefined);
  sink.kill('SIGTERM');
  assert.equal(await sink.exited, 0, sink.output());
  assert.match(sink.output(), /stopped while waiting for PostgreSQL and Kafka/);
});

test('Kafka first, then PostgreSQL: the waiting sink applies in the same process', async () => {
  const port = await freePort();
  const sink = startWaitingSink(port);
  const pid = sink.child.pid;

  const waiting = await readyzWhen(
    port,
    sink,
    'several failed attempts at both',
    (status, body) => status === 503 && (body.checks.postgres.failedAttempts ?? 0) >= 3 && (body.checks.kafka.failedAttempts ?? 0) >= 3,
  );
  assert.equal((await httpGet(port, '/healthz')).status, 200);
  assert.match(waiting.reason ?? '', /waiting for PostgreSQL: connect ECONNREFUSED 127\.0\.0\.1:5572/);
  assert.match(waiting.reason ?? '', /waiting for Kafka: 127\.0\.0\.1:9322: connect ECONNREFUSED/);

  await services('start', 'kafka');
  const half = await readyzWhen(port, sink, '/readyz waiting for PostgreSQL only', (status, body) => status === 503 && body.checks.kafka.ok);
  assert.match(half.reason ?? '', /^waiting for PostgreSQL: /);
  assert.equal(sink.output().includes('sink running'), false, 'running before PostgreSQL answered');

  await services('start', 'postgres');
  await sink.waitForLog('"sink running"', 120_000);
  await readyzWhen(port, sink, '/readyz 200', (status) => status === 200);

  // A table that does not fit the sink file is a configuration error once PostgreSQL answers: exit 2.
  const misfit = spawnSync(process.execPath, [cliPath(), 'sink', '--sink', sinkFile('no_such_table')], {
    env: baseRelayEnv({ ...sinkEnv(0), HTTP_PORT: '0' }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(misfit.status, 2, misfit.stderr);
  assert.match(misfit.stderr, /SINK_FILE_INVALID/);
  assert.match(misfit.stderr, /no_such_table/);

  const record = { id: 7, name: 'Ariadne', created_at: '2024-01-01T10:00:00.000Z', updated_at: '2024-01-02T10:00:00.000Z' };
  await produceValues(topic, [{ key: 'User:7', value: envelope('user_created', 'User', record) }], BROKERS);
  const [row] = await waitFor(
    'the user in the consumer table',
    () => withDatabase(async (pool) => {
      const { rows } = await pool.query<{ name: string; synced_id: string }>(`SELECT name, synced_id::text FROM ${namespace}.users`);
      return rows.length === 1 ? rows : undefined;
    }),
    { timeoutMs: 60_000, relay: sink, describe: () => sink.output() },
  );
  assert.deepEqual(row, { name: 'Ariadne', synced_id: '7' });

  assert.equal(sink.child.pid, pid);
  assert.equal(sink.output().split('"sink running"').length - 1, 1, 'started once');
  assert.match(sink.output(), /PostgreSQL answers: done waiting for it/);
  assert.match(sink.output(), /Kafka answers: done waiting for it/);
  sink.kill('SIGTERM');
  assert.equal(await sink.exited, 0, sink.output());
});
