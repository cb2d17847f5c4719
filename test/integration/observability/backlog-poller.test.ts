import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { Pool } from 'pg';
import pino from 'pino';
import { Registry } from 'prom-client';
import { BacklogPoller } from '../../../src/observability/backlog-poller';
import { DatabaseProbe } from '../../../src/observability/database-probe';
import { RelayMetrics } from '../../../src/observability/metrics';
import { qualifiedTable } from '../../../src/postgres/identifiers';
import { createTestDatabase, relayPoolFor, type TestDatabase } from '../../helpers/database';
import { TEST_DATABASE_URL } from '../../helpers/env';
import { freePort, parseMetrics, sample, seriesOf, waitFor } from './support';

// The backlog poller's SQL and the readiness probe against the real PostgreSQL, on a schema of
// their own; no relay process.

let db: TestDatabase;
let relayPool: Pool;
const silent = pino({ level: 'silent' });

function poolFor(url: string, schema: string): Pool {
  return relayPoolFor(schema, url);
}

function capturingLogger(): { logger: pino.Logger; messages: string[] } {
  const messages: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      messages.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), messages };
}

before(async () => {
  db = await createTestDatabase('obsp');
  relayPool = poolFor(TEST_DATABASE_URL, db.schema);
  const row = `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at, published_at, retry_at)
               VALUES ('User', $1, 'user_updated', $2, (now() AT TIME ZONE 'UTC') - $3::interval, now() AT TIME ZONE 'UTC', $4, $5)`;
  // Topic a: 3 pending (one waiting for its retry), 1 published, 1 given up a day ago.
  await db.query(row, ['1', 'a', '10 minutes', null, null]);
  await db.query(row, ['2', 'a', '5 minutes', null, null]);
  await db.query(row, ['3', 'a', '1 minute', null, new Date(Date.now() + 3600_000)]);
  await db.query(row, ['4', 'a', '2 days', new Date(), null]);
  await db.query(row, ['5', 'a', '1 day', null, 'infinity']);
  // Topic b: only a row set aside as POISON_ROW (given up too), an hour old.
  await db.query(row, ['7', 'b', '1 hour', null, 'infinity']);
  await db.query(`UPDATE dionysus_outboxes SET error_class = 'POISON_ROW' WHERE topic = 'b'`);
  // Topic c is not configured: reported only by the unconfigured gauge. Topic d neither, and holds
  // only a given-up row: nothing pending to report.
  await db.query(row, ['6', 'c', '1 hour', null, null]);
  await db.query(row, ['8', 'd', '1 hour', null, 'infinity']);
});

after(async () => {
  await relayPool.end();
  await db.drop();
});

function setup(pool: Pool = relayPool, logger = silent) {
  const registry = new Registry();
  const metrics = new RelayMetrics(registry, { topics: ['a', 'b'], buildInfo: { version: 't', node: 't', librdkafka: 't' }, defaultMetrics: false });
  const table = qualifiedTable(db.schema, 'dionysus_outboxes');
  const poller = new BacklogPoller(pool, { table, intervalMs: 60_000 }, metrics, logger);
  return { registry, poller, read: async () => parseMetrics(await registry.metrics()) };
}

describe('BacklogPoller', () => {
  test('pending rows and oldest age per configured topic; given-up rows and other topics left out', async () => {
    const { poller, read } = setup();
    await poller.pollOnce();
    const m = await read();
    assert.equal(sample(m, 'dionysus_relay_pending_rows', { topic: 'a' }), 3);
    const age = sample(m, 'dionysus_relay_oldest_pending_age_seconds', { topic: 'a' }) ?? -1;
    // The 10-minute-old row is the oldest counted; the given-up one (a day old) is not.
    assert.ok(age >= 600 && age < 86_400, `oldest age ${age}`);
    assert.equal(sample(m, 'dionysus_relay_pending_rows', { topic: 'b' }), 0);
    assert.equal(sample(m, 'dionysus_relay_oldest_pending_age_seconds', { topic: 'b' }), 0);
    assert.deepEqual(seriesOf(m, 'dionysus_relay_pending_rows').sort(), [
      'dionysus_relay_pending_rows{topic="a"}',
      'dionysus_relay_pending_rows{topic="b"}',
    ]);
    assert.deepEqual(seriesOf(m, 'dionysus_relay_unconfigured_pending_rows'), ['dionysus_relay_unconfigured_pending_rows{topic="c"}']);
    assert.equal(sample(m, 'dionysus_relay_unconfigured_pending_rows', { topic: 'c' }), 1);
  });

  test('given-up rows per configured topic, POISON_ROW included; none of other topics', async () => {
    const { poller, read } = setup();
    await poller.pollOnce();
    const m = await read();
    assert.equal(sample(m, 'dionysus_relay_given_up_rows', { topic: 'a' }), 1);
    assert.equal(sample(m, 'dionysus_relay_given_up_rows', { topic: 'b' }), 1);
    assert.deepEqual(seriesOf(m, 'dionysus_relay_given_up_rows').sort(), [
      'dionysus_relay_given_up_rows{topic="a"}',
      'dionysus_relay_given_up_rows{topic="b"}',
    ]);
  });

  test('outbox table sizes, dead tuples and the vacuum age after a VACUUM', async () => {
    const { poller, read } = setup();
    await db.query('VACUUM dionysus_outboxes');
    const m = await waitFor('a finite vacuum age', async () => {
      await poller.pollOnce();
      const m = await read();
      return Number.isFinite(sample(m, 'dionysus_relay_outbox_last_autovacuum_age_seconds')) ? m : undefined;
    });
    assert.ok((sample(m, 'dionysus_relay_outbox_last_autovacuum_age_seconds') ?? -1) >= 0);
    assert.ok((sample(m, 'dionysus_relay_outbox_table_bytes') ?? 0) > 0);
    assert.ok((sample(m, 'dionysus_relay_outbox_index_bytes') ?? 0) > 0);
    assert.ok((sample(m, 'dionysus_relay_outbox_dead_tuples') ?? -1) >= 0);
  });

  test('start polls at once; stop is idempotent and safe before start', async () => {
    const { poller, read } = setup();
    await Promise.all([poller.stop(), poller.stop()]);
    const fresh = setup();
    fresh.poller.start();
    await waitFor('the first poll', async () => (sample(await fresh.read(), 'dionysus_relay_pending_rows', { topic: 'a' }) === 3 ? true : undefined));
    await Promise.all([fresh.poller.stop(), fresh.poller.stop()]);
    assert.equal(sample(await read(), 'dionysus_relay_pending_rows', { topic: 'a' }), undefined, 'the stopped-before-start poller never polled');
  });

  test('a database that does not answer is logged once; gauges keep their values; nothing throws', async () => {
    const deadUrl = new URL(TEST_DATABASE_URL);
    deadUrl.hostname = '127.0.0.1';
    deadUrl.port = String(await freePort());
    const deadPool = poolFor(deadUrl.toString(), db.schema);
    const { logger, messages } = capturingLogger();
    const { poller, read } = setup(deadPool, logger);
    try {
      await poller.pollOnce();
      await poller.pollOnce();
      assert.equal(messages.filter((m) => m.startsWith('backlog metrics poll failed')).length, 1);
      assert.equal(sample(await read(), 'dionysus_relay_pending_rows', { topic: 'a' }), undefined);
    } finally {
      await deadPool.end();
    }
  });
});

describe('DatabaseProbe', () => {
  test('ok against PostgreSQL, down with the reason when nothing listens', async () => {
    const probe = new DatabaseProbe(relayPool, { intervalMs: 60_000 }, silent);
    assert.equal(probe.status().ok, false, 'not ready before the first check');
    await probe.check();
    assert.deepEqual(probe.status(), { ok: true, detail: 'SELECT 1 answered' });
    await probe.stop();

    const deadUrl = new URL(TEST_DATABASE_URL);
    deadUrl.hostname = '127.0.0.1';
    deadUrl.port = String(await freePort());
    const deadPool = poolFor(deadUrl.toString(), db.schema);
    const dead = new DatabaseProbe(deadPool, { intervalMs: 60_000 }, silent);
    try {
      await dead.check();
      assert.equal(dead.status().ok, false);
      assert.match(dead.status().detail, /SELECT 1 failed: .*ECONNREFUSED/);
    } finally {
      await dead.stop();
      await deadPool.end();
    }
  });

  test('start checks at once and then periodically; stop is idempotent and safe before start', async () => {
    const probe = new DatabaseProbe(relayPool, { intervalMs: 100 }, silent);
    await probe.stop();
    probe.start();
    assert.equal(probe.status().ok, false, 'a stopped probe does not start');
    const live = new DatabaseProbe(relayPool, { intervalMs: 100 }, silent);
    live.start();
    await waitFor('the first check', async () => (live.status().ok ? true : undefined));
    await Promise.all([live.stop(), live.stop()]);
  });
});
