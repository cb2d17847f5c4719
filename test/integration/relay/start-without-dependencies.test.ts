import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { Pool } from 'pg';
import { insertOutboxRow } from '../../helpers/database';
import { consumeAll, createTopic, uniqueNamespace } from '../../helpers/kafka';
import { ownServices, readyzWhen, type Dependency } from '../../helpers/own-services';
import { baseRelayEnv, cliPath, startRelay, writeTopicsFile, type RelayProcess } from '../../helpers/relay-process';
import { usersTopicsYaml } from '../../helpers/topics-yaml';
import { freePort, httpGet, sample, scrape, waitFor } from '../observability/support';

// `run` started before PostgreSQL and Kafka: it answers /healthz (200) and /readyz (503, saying what
// it waits for) meanwhile, logs one line per distinct failure, and publishes once both answer, in
// the same process, whichever comes first. The relay runs against a PostgreSQL and a Kafka of this
// test's own (scripts/services.sh with another state folder and other ports), which the test stops
// and starts; the shared services are not touched.

const SERVICES = ownServices('/var/tmp/dionysus-relay-start-test', 5562, 9312);
const DATABASE_URL = SERVICES.databaseUrl;
const BROKERS = SERVICES.brokers;
const services = SERVICES.run;
/** A serializer that needs no table, so the relay's start does not depend on what the test creates. */
const SERIALIZER = 'SELECT id FROM unnest($1::bigint[]) AS id';
const LABELS: Record<Dependency, string> = { postgres: 'PostgreSQL', kafka: 'Kafka' };

const relays: RelayProcess[] = [];

before(() => services('stop', 'all'));

after(async () => {
  for (const relay of relays) relay.kill('SIGKILL');
  await services('stop', 'all');
});

function startWaitingRelay(namespace: string, port: number, extraArgs: string[] = []): RelayProcess {
  const relay = startRelay(['run', ...extraArgs, '--topics', writeTopicsFile(usersTopicsYaml(namespace, SERIALIZER))], {
    DATABASE_URL,
    DATABASE_SCHEMA: namespace,
    KAFKA_BROKERS: BROKERS,
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    RELAY_START_RETRY_MAX_MS: '1000',
  });
  relays.push(relay);
  return relay;
}

async function dependencyUp(port: number): Promise<Record<Dependency, number | undefined>> {
  const samples = await scrape(port);
  const of = (dependency: Dependency): number | undefined => sample(samples, 'dionysus_relay_dependency_up', { dependency });
  return { postgres: of('postgres'), kafka: of('kafka') };
}

/** The relay's JSON log lines. */
function logLines(relay: RelayProcess): Array<Record<string, unknown>> {
  return relay
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * One line per distinct failure, not per attempt: consecutive warnings about a dependency differ,
 * and there are fewer of them than failed attempts; one line when it answered.
 */
function assertOneLinePerDistinctFailure(relay: RelayProcess, dependency: Dependency): void {
  const label = LABELS[dependency];
  const lines = logLines(relay);
  const warnings = lines.filter((l) => l['dependency'] === dependency && String(l['msg']).startsWith(`waiting for ${label}: `)).map((l) => String(l['reason']));
  assert.ok(warnings.length >= 1, `no warning about ${label}:\n${relay.output()}`);
  for (let i = 1; i < warnings.length; i += 1) assert.notEqual(warnings[i], warnings[i - 1], `the same failure logged twice in a row:\n${warnings.join('\n')}`);
  const answered = lines.filter((l) => l['msg'] === `${label} answers: done waiting for it`);
  assert.equal(answered.length, 1, relay.output());
  const failedAttempts = Number(answered[0]?.['failedAttempts']);
  assert.ok(failedAttempts > warnings.length, `${failedAttempts} failed attempts, ${warnings.length} lines:\n${warnings.join('\n')}`);
}

async function scenario(prefix: string, order: readonly [Dependency, Dependency]): Promise<void> {
  const [first, second] = order;
  const namespace = uniqueNamespace(prefix);
  const topic = `${namespace}_users`;
  const port = await freePort();
  // --migrate: the outbox table is created by the relay itself once PostgreSQL answers.
  const relay = startWaitingRelay(namespace, port, ['--migrate']);
  const pid = relay.child.pid;

  // Both down: alive, not ready, and saying why; several attempts each.
  const waiting = await readyzWhen(
    port,
    relay,
    'several failed attempts at both',
    (status, body) => status === 503 && (body.checks.postgres.failedAttempts ?? 0) >= 3 && (body.checks.kafka.failedAttempts ?? 0) >= 3,
  );
  assert.equal((await httpGet(port, '/healthz')).status, 200);
  assert.match(waiting.reason ?? '', /waiting for PostgreSQL: connect ECONNREFUSED 127\.0\.0\.1:5562/);
  assert.match(waiting.reason ?? '', /waiting for Kafka: 127\.0\.0\.1:9312: connect ECONNREFUSED/);
  assert.deepEqual(await dependencyUp(port), { postgres: 0, kafka: 0 });

  // The first one comes up; the relay still waits for the other.
  await services('start', first);
  await waitFor(`dependency_up{${first}} 1`, async () => ((await dependencyUp(port))[first] === 1 ? true : undefined), { timeoutMs: 60_000, relay });
  const half = await readyzWhen(port, relay, `/readyz waiting for ${LABELS[second]} only`, (status, body) => status === 503 && body.checks[first].ok);
  assert.match(half.reason ?? '', new RegExp(`^waiting for ${LABELS[second]}: `));
  assert.equal((await dependencyUp(port))[second], 0);
  assert.equal((await httpGet(port, '/healthz')).status, 200);

  // The second one: the relay starts publishing, in the same process.
  await services('start', second);
  await relay.waitForLog('relay running', 120_000);
  await readyzWhen(port, relay, '/readyz 200', (status) => status === 200);
  assert.deepEqual(await dependencyUp(port), { postgres: 1, kafka: 1 });

  await createTopic(topic, 1, {}, BROKERS);
  const pool = new Pool({ connectionString: DATABASE_URL, max: 2, options: `-c search_path=${namespace}` });
  try {
    const db = { query: async (text: string, values?: unknown[]) => (await pool.query(text, values)).rows as Array<Record<string, unknown>> };
    await insertOutboxRow(db, { resourceClass: 'User', resourceId: 1, event: 'user_created', topic });
    await waitFor(
      'the row published',
      async () => ((await db.query(`SELECT published_at FROM dionysus_outboxes WHERE topic = $1 AND published_at IS NOT NULL`, [topic])).length === 1 ? true : undefined),
      { timeoutMs: 60_000, relay, describe: () => relay.output() },
    );
  } finally {
    await pool.end();
  }
  const messages = await consumeAll(topic, 1, { client: { 'metadata.broker.list': BROKERS }, timeoutMs: 30_000, settleMs: 200 });
  assert.deepEqual(messages.map((m) => m.key), ['User:1']);

  assert.equal(relay.child.pid, pid);
  assert.equal(relay.child.exitCode, null, 'the relay never exited');
  assert.equal(logLines(relay).filter((l) => l['msg'] === 'relay running').length, 1, 'started once');
  assertOneLinePerDistinctFailure(relay, 'postgres');
  assertOneLinePerDistinctFailure(relay, 'kafka');
  assert.match(relay.output(), /--migrate: \d+ migrations applied/);

  relay.kill('SIGTERM');
  assert.equal(await relay.exited, 0, relay.output());
  await services('stop', 'all');
}

test('configuration errors still exit 2 at once while PostgreSQL and Kafka are down', () => {
  const namespace = uniqueNamespace('nodeps_config');
  const env = baseRelayEnv({ DATABASE_URL, KAFKA_BROKERS: BROKERS, DATABASE_SCHEMA: namespace });
  const run = (args: string[], extra: Record<string, string> = {}): { status: number | null; stderr: string } =>
    spawnSync(process.execPath, [cliPath(), ...args], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 30_000 });
  const badTopics = run(['run', '--topics', writeTopicsFile('namespace: x\ntopics:\n  users:\n    models: {}\n')]);
  assert.equal(badTopics.status, 2, badTopics.stderr);
  assert.match(badTopics.stderr, /invalid configuration \[TOPICS_FILE_INVALID\]/);
  const topicsFile = writeTopicsFile(usersTopicsYaml(namespace, SERIALIZER));
  const badSetting = run(['run', '--topics', topicsFile], { RELAY_BATCH_SIZE: 'lots' });
  assert.equal(badSetting.status, 2, badSetting.stderr);
  assert.match(badSetting.stderr, /RELAY_BATCH_SIZE/);
  // One-shot runs do not wait: exit 1 at once.
  const oneShot = run(['run', '--exit-when-idle', '--topics', topicsFile]);
  assert.equal(oneShot.status, 1, oneShot.stderr);
  assert.match(oneShot.stderr, /cannot start \[POSTGRES_UNAVAILABLE\]/);
});

test('a signal while waiting stops the relay at once, cleanly (exit 0)', async () => {
  const namespace = uniqueNamespace('nodeps_signal');
  const port = await freePort();
  const relay = startWaitingRelay(namespace, port);
  await readyzWhen(port, relay, 'a failed attempt at both', (status, body) => status === 503 && body.checks.postgres.failedAttempts !== undefined && body.checks.kafka.failedAttempts !== undefined);
  relay.kill('SIGTERM');
  assert.equal(await relay.exited, 0, relay.output());
  assert.match(relay.output(), /stopped while waiting for PostgreSQL and Kafka/);
});

test('PostgreSQL first, then Kafka: the waiting relay publishes in the same process', async () => {
  await scenario('nodeps_pg_first', ['postgres', 'kafka']);
});

test('Kafka first, then PostgreSQL: the waiting relay publishes in the same process', async () => {
  await scenario('nodeps_kafka_first', ['kafka', 'postgres']);
});
