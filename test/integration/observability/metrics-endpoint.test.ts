import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compatHealthFileName } from '../../../src/observability/compat-health-file';
import { packageRoot } from '../../../src/package-root';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { startRelay, writeTopicsFile, type RelayProcess } from '../../helpers/relay-process';
import { usersTopicsYaml } from '../../helpers/topics-yaml';
import { freePort, httpGet, sample, scrape, seriesOf, waitFor, type Samples } from './support';

// The real CLI with its HTTP server on: 7 user rows publish and 1 audit row fails in its
// serializer (and is given up at once, RETRY_MAX_ATTEMPTS=1); /metrics must count exactly that,
// the backlog gauges must see the rows pending and then none, /healthz must answer 200, and the
// compatibility health file must exist while the relay runs and be gone after SIGTERM. The given-up
// audit row leaves the backlog gauges and shows in the given-up gauge.

let db: TestDatabase;
let relay: RelayProcess | undefined;
const namespace = uniqueNamespace('obsm');
const users = `${namespace}_users`;
const audits = `${namespace}_audits`;
const compatDir = mkdtempSync(join(tmpdir(), 'dionysus-relay-compat-'));
const compatFile = join(compatDir, compatHealthFileName(hostname()));

before(async () => {
  db = await createTestDatabase('obsm');
  await db.query(`CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL)`);
  await db.query(`CREATE TABLE audits (id bigint PRIMARY KEY)`);
  await createTopic(users, 3);
  await createTopic(audits, 1);
});

after(async () => {
  relay?.kill('SIGKILL');
  await deleteTopics([users, audits]);
  await db.drop();
  rmSync(compatDir, { recursive: true, force: true });
});

/**
 * Outbox rows created an hour in the future: the claim only takes rows whose created_at has passed,
 * so the relay leaves them alone while the backlog poller already counts them.
 */
async function insertHeldBackRows(): Promise<void> {
  await db.query(`INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, 7) g`);
  await db.query(`INSERT INTO audits VALUES (1)`);
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
     SELECT 'User', g::text, 'user_created', $1, (now() AT TIME ZONE 'UTC') + interval '1 hour', now() AT TIME ZONE 'UTC'
       FROM generate_series(1, 7) g
     UNION ALL
     SELECT 'Audit', '1', 'audit_created', $2, (now() AT TIME ZONE 'UTC') + interval '1 hour', now() AT TIME ZONE 'UTC'`,
    [users, audits],
  );
}

test('/metrics counts what the relay did; /healthz 200; the compatibility file lives as long as the relay', async () => {
  await insertHeldBackRows();
  const topicsFile = writeTopicsFile(`${usersTopicsYaml(namespace)}  audits:
    partition_key: id
    models:
      Audit:
        # Divides by zero for every real row (not for the empty start-up check).
        sql: SELECT id, 1 / (id - id) AS boom FROM audits WHERE id = ANY($1::bigint[])
`);
  const port = await freePort();
  relay = startRelay(['run', '--topics', topicsFile], {
    ...db.relayEnv(),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    METRICS_BACKLOG_INTERVAL_MS: '200',
    HEALTH_READINESS_INTERVAL_MS: '200',
    HEALTH_COMPAT_FILE: 'true',
    HEALTH_COMPAT_FILE_DIR: compatDir,
    RETRY_MAX_ATTEMPTS: '1',
  });
  const running = relay;
  await running.waitForLog('relay running');
  let last: Samples = new Map();
  const seen = (): string => {
    const ours = [...last].filter(([k]) => k.startsWith('dionysus_relay_')).map(([k, v]) => `${k} ${v}`);
    return `${ours.join('\n')}\n${running.output()}`;
  };

  await waitFor('/readyz 200', async () => ((await httpGet(port, '/readyz')).status === 200 ? true : undefined), { describe: seen, relay: running });
  await waitFor('the compatibility health file', async () => (existsSync(compatFile) ? true : undefined), { describe: seen, relay: running });

  // Before: the held-back rows are pending, nothing is counted yet.
  last = await waitFor(
    'the backlog poll to count the held-back rows',
    async () => {
      last = await scrape(port);
      return sample(last, 'dionysus_relay_pending_rows', { topic: users }) === 7 ? last : undefined;
    },
    { describe: seen, relay: running },
  );
  assert.equal(sample(last, 'dionysus_relay_pending_rows', { topic: audits }), 1);
  assert.equal(sample(last, 'dionysus_relay_given_up_rows', { topic: audits }), 0);
  assert.ok((sample(last, 'dionysus_relay_oldest_pending_age_seconds', { topic: users }) ?? -1) >= 0);
  assert.equal(sample(last, 'dionysus_relay_rows_published_total', { topic: users }), 0);
  assert.equal(sample(last, 'dionysus_relay_publish_latency_seconds_count', { topic: users }), 0);

  // Release the rows: created now.
  await db.query(`UPDATE dionysus_outboxes SET created_at = now() AT TIME ZONE 'UTC'`);

  last = await waitFor(
    'every row published or failed, and the backlog gauges at 0',
    async () => {
      last = await scrape(port);
      const done =
        sample(last, 'dionysus_relay_rows_published_total', { topic: users }) === 7 &&
        sample(last, 'dionysus_relay_rows_given_up_total', { topic: audits }) === 1 &&
        sample(last, 'dionysus_relay_pending_rows', { topic: users }) === 0 &&
        sample(last, 'dionysus_relay_pending_rows', { topic: audits }) === 0 &&
        sample(last, 'dionysus_relay_given_up_rows', { topic: audits }) === 1;
      return done ? last : undefined;
    },
    { describe: seen, relay: running },
  );
  const published = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM dionysus_outboxes WHERE topic = $1 AND published_at IS NOT NULL`,
    [users],
  );
  assert.equal(published[0]?.n, 7);

  // Counters and histograms: exactly the 7 + 1 rows, nothing twice.
  assert.equal(sample(last, 'dionysus_relay_rows_published_total', { topic: users }), 7);
  assert.equal(sample(last, 'dionysus_relay_publish_latency_seconds_count', { topic: users }), 7);
  assert.equal(sample(last, 'dionysus_relay_publish_latency_seconds_bucket', { topic: users, le: '+Inf' }), 7);
  assert.equal(sample(last, 'dionysus_relay_rows_published_total', { topic: audits }), 0);
  assert.equal(sample(last, 'dionysus_relay_rows_failed_total', { topic: audits, error_class: 'SERIALIZER_FAILED' }), 1);
  assert.deepEqual(seriesOf(last, 'dionysus_relay_rows_failed_total'), [
    `dionysus_relay_rows_failed_total{error_class="SERIALIZER_FAILED",topic="${audits}"}`,
  ]);
  assert.equal(sample(last, 'dionysus_relay_batches_abandoned_total', { topic: users }), 0);
  assert.equal(sample(last, 'dionysus_relay_batch_size_sum'), 8, 'every row claimed once');
  assert.ok((sample(last, 'dionysus_relay_batch_phase_duration_seconds_count', { phase: 'mark' }) ?? 0) >= 2);
  assert.equal(sample(last, 'dionysus_relay_oldest_pending_age_seconds', { topic: users }), 0);
  // The given-up row stays visible as a gauge (the counter above only says it happened).
  assert.equal(sample(last, 'dionysus_relay_given_up_rows', { topic: users }), 0);
  assert.equal(sample(last, 'dionysus_relay_oldest_pending_age_seconds', { topic: audits }), 0);

  // Gauges read on scrape or from statistics and the catalog.
  assert.equal(sample(last, 'dionysus_relay_inflight_messages'), 0);
  // Parts only (active + idle = open connections), so sum() over states means something.
  assert.ok((sample(last, 'dionysus_relay_pg_pool_connections', { state: 'active' }) ?? 0) + (sample(last, 'dionysus_relay_pg_pool_connections', { state: 'idle' }) ?? 0) >= 1);
  assert.equal(sample(last, 'dionysus_relay_pg_pool_connections', { state: 'total' }), undefined);
  assert.ok(sample(last, 'dionysus_relay_pg_pool_connections', { state: 'waiting' }) !== undefined);
  assert.ok((sample(last, 'dionysus_relay_outbox_table_bytes') ?? 0) > 0);
  assert.ok((sample(last, 'dionysus_relay_outbox_index_bytes') ?? 0) > 0);
  assert.ok((sample(last, 'dionysus_relay_outbox_dead_tuples') ?? -1) >= 0);
  const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(seriesOf(last, 'dionysus_relay_build_info').length, 1);
  assert.match(seriesOf(last, 'dionysus_relay_build_info')[0] ?? '', new RegExp(`version="${version.replace(/\./g, '\\.')}"`));
  assert.ok(sample(last, 'process_cpu_user_seconds_total') !== undefined, 'default process metrics');
  // Both dependencies answer (0 while `run` waits for one: relay/start-without-dependencies.test.ts).
  assert.equal(sample(last, 'dionysus_relay_dependency_up', { dependency: 'postgres' }), 1);
  assert.equal(sample(last, 'dionysus_relay_dependency_up', { dependency: 'kafka' }), 1);
  assert.equal(sample(last, 'dionysus_relay_kafka_queue_messages'), 0);

  const metricsAnswer = await httpGet(port, '/metrics');
  assert.match(metricsAnswer.contentType, /^text\/plain; version=0\.0\.4/);
  const healthz = await httpGet(port, '/healthz');
  assert.equal(healthz.status, 200, healthz.body);

  assert.equal(existsSync(compatFile), true, 'the compatibility file exists while the relay runs');
  running.kill('SIGTERM');
  assert.equal(await running.exited, 0, running.output());
  assert.equal(existsSync(compatFile), false, 'the compatibility file is removed on shutdown');
});
