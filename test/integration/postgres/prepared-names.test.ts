import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Pool } from 'pg';
import { qualifiedTable } from '../../../src/postgres/identifiers';
import { OutboxStore } from '../../../src/postgres/outbox-store';
import { connectionConfig } from '../../../src/postgres/pool';
import { createTestDatabase, insertOutboxRow, type TestDatabase } from '../../helpers/database';

// Named statements are prepared per connection, and node-postgres refuses a second text under a
// name a connection has already prepared. With RELAY_ON_PUBLISH=delete the mark is a DELETE too:
// it must not share its name with the retention delete. A pool of one connection makes both run on
// the same session, in both orders.

let db: TestDatabase;
let pool: Pool;
const topic = 'prepared_names';

before(async () => {
  db = await createTestDatabase('prep');
  const settings = { url: db.url, schema: db.schema, table: 'dionysus_outboxes', poolSize: 1, statementTimeoutMs: 30000, idleInTransactionTimeoutMs: 60000, sslCaFile: '' };
  // The relay's session settings, on one connection (createPool keeps at least two).
  pool = new Pool({ ...connectionConfig(settings, 'dionysus-relay-test'), max: 1 });
});

after(async () => {
  await pool.end();
  await db.drop();
});

async function insertPublishedHistory(): Promise<void> {
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, published_at, created_at, updated_at)
     VALUES ('User', '9', 'user_updated', $1, (now() AT TIME ZONE 'UTC') - interval '1 hour', (now() AT TIME ZONE 'UTC') - interval '2 hours', now())`,
    [topic],
  );
}

async function claimAndMark(store: OutboxStore): Promise<number> {
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 1, event: 'user_updated', topic });
  const batch = await store.claim(topic, 10, 0);
  assert.ok(batch !== null);
  // The parameterized mark (prepared under its name), then a separate commit.
  await batch.markPublished(batch.rows.map((r) => r.id));
  await batch.commit();
  return batch.rows.length;
}

test('on_publish delete: the mark and the retention delete share one connection', async () => {
  const store = new OutboxStore(pool, qualifiedTable(db.schema, 'dionysus_outboxes'), 'delete');
  await store.probeCapabilities();

  assert.equal(await claimAndMark(store), 1);
  await insertPublishedHistory();
  assert.equal(await store.deletePublished(60_000, 100), 1);
  // And the other way round: the mark after the retention delete on the same session.
  assert.equal(await claimAndMark(store), 1);
  await insertPublishedHistory();
  assert.equal(await store.deletePublished(60_000, 100), 1);

  const [left] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dionysus_outboxes');
  assert.equal(left?.n, 0, 'published rows were deleted by the mark, history by retention');
});
