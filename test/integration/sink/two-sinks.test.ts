import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { TEST_DATABASE_URL } from '../../helpers/env';
import { createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import type { RelayProcess } from '../../helpers/relay-process';
import { envelope, produceValues, sinkEnv, startSink, terminate, writeSinkFile, type OutgoingValue } from '../../helpers/sink';
import { waitFor } from '../observability/support';

// Two sink processes in one consumer group share a topic's partitions (cooperative rebalancing
// when the second joins). One is killed with -9 while a batch transaction is open; after its
// session times out the other takes its partitions over and re-applies the uncommitted tail.
// Nothing is lost and nothing is corrupted: every item ends at its last version, exactly once.

const ITEMS = 2000;
let db: TestDatabase;
const sinks: RelayProcess[] = [];
const ns = uniqueNamespace('sinktwo');
const topic = `${ns}_items`;

before(async () => {
  db = await createTestDatabase('sinktwo');
  await db.query(`CREATE TABLE items (id bigserial PRIMARY KEY, version integer NOT NULL, synced_id bigint NOT NULL UNIQUE,
                  synced_data jsonb NOT NULL, synced_updated_at timestamp(6) NOT NULL)`);
  // Every statement takes 20 ms more, so that batches are long enough to be caught in flight.
  await db.query(`CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.02); RETURN NULL; END $$`);
  await db.query(`CREATE TRIGGER slow AFTER INSERT OR UPDATE ON items FOR EACH STATEMENT EXECUTE FUNCTION slow()`);
  await createTopic(topic, 4);
});

after(async () => {
  for (const s of sinks) if (s.child.exitCode === null && s.child.signalCode === null) s.kill('SIGKILL');
  await deleteTopics([topic]);
  await db.drop();
});

/** Versions `from`..`to` of every item, in version order per key (one key, one partition). */
function versions(from: number, to: number): OutgoingValue[] {
  const out: OutgoingValue[] = [];
  for (let v = from; v <= to; v++) {
    for (let id = 1; id <= ITEMS; id++) {
      const updatedAt = new Date(Date.UTC(2024, 0, 1) + v * 1000).toISOString();
      out.push({ key: `Item:${id}`, value: envelope('item_updated', 'Item', { id, version: v, updated_at: updatedAt, links: {} }) });
    }
  }
  return out;
}

function sinkFor(name: string, file: string): Promise<RelayProcess> {
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('application_name', `${db.schema}-${name}`);
  return startSink(file, sinkEnv(db.schema, { DATABASE_URL: url.toString(), SINK_MAX_BATCH_MESSAGES: '200', SINK_CONCURRENCY: '2' }));
}

test('kill -9 of one of two sinks mid-batch loses and corrupts nothing', { timeout: 180_000 }, async () => {
  await produceValues(topic, versions(1, 5));
  const sinkFile = writeSinkFile(`
group_id: ${ns}-group
namespace: ${ns}
topics:
  items: {}
models:
  Item: {table: items}
librdkafka:
  session.timeout.ms: 6000
  heartbeat.interval.ms: 500
`);
  const a = await sinkFor('a', sinkFile);
  sinks.push(a);
  await a.waitForLog('"partitions assigned"');
  const b = await sinkFor('b', sinkFile);
  sinks.push(b);
  // The second member makes the group rebalance: each ends up with two of the four partitions.
  await b.waitForLog('"partitions assigned"', 30_000);
  await a.waitForLog('"partitions revoked (applied offsets committed)"', 30_000);

  const inFlight = await waitFor('a batch transaction of sink a in flight', async () => {
    const rows = await db.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND backend_xid IS NOT NULL`, [`${db.schema}-a`]);
    return rows.length > 0 ? true : undefined;
  }, { intervalMs: 2, timeoutMs: 60_000 });
  assert.ok(inFlight);
  a.kill('SIGKILL');
  assert.equal(await a.exited, 'SIGKILL');

  await produceValues(topic, versions(6, 8));
  const done = await waitFor('every item at version 8', async () => {
    const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM items WHERE version = 8`);
    return row?.n === ITEMS ? true : undefined;
  }, { timeoutMs: 120_000, relay: b, describe: () => b.output().slice(-2000) });
  assert.ok(done);
  // Sink b took sink a's partitions over once a's session timed out.
  assert.match(b.output(), /"partitions assigned"[\s\S]*"partitions assigned"/);

  const [check] = await db.query<{ rows: number; ids: number; consistent: number }>(`
    SELECT count(*)::int AS rows, count(DISTINCT synced_id)::int AS ids,
           count(*) FILTER (WHERE (synced_data->>'version')::int = version
                              AND synced_updated_at = '2024-01-01'::timestamp + version * interval '1 second')::int AS consistent
      FROM items`);
  assert.deepEqual(check, { rows: ITEMS, ids: ITEMS, consistent: ITEMS });
  assert.equal(await terminate(b), 0, b.output().slice(-2000));
});
