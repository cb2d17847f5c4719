import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { runUntilIdle, startRelay, usersTopicsFile } from '../../helpers/relay-process';

// SIGTERM while rows keep arriving: the relay finishes its batches in flight, exits 0, and every
// row is published (by it, or by the next relay): nothing is lost.

let db: TestDatabase;
const users = new UsersFixture('term', { partitions: 3 });
const { namespace, topic } = users;

before(async () => {
  db = await users.setUp();
});

after(async () => {
  await users.tearDown();
});

async function insertUsers(from: number, count: number): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`INSERT INTO users SELECT g, 'user ' || g FROM generate_series($1::int, $2::int) g`, [from, from + count - 1]);
    await client.query(
      `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
       SELECT 'User', g::text, 'user_created', $3, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
         FROM generate_series($1::int, $2::int) g`,
      [from, from + count - 1, topic],
    );
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}

test('SIGTERM during a stream of inserts: exit 0 and nothing lost', async () => {
  const topicsFile = usersTopicsFile(namespace);
  const relay = startRelay(['run', '--topics', topicsFile], { ...db.relayEnv(), RELAY_BATCH_SIZE: '20' });
  await relay.waitForLog('relay running');

  let next = 1;
  let writing = true;
  const writer = (async () => {
    while (writing) {
      await insertUsers(next, 10);
      next += 10;
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();

  // Wait until the relay has published part of the stream, then stop it mid-stream.
  for (;;) {
    const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dionysus_outboxes WHERE published_at IS NOT NULL');
    if ((row?.n ?? 0) >= 200) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  relay.kill('SIGTERM');
  const code = await relay.exited;
  writing = false;
  await writer;
  assert.equal(code, 0, relay.output());
  assert.match(relay.output(), /shutdown complete/);

  // What the stopped relay left is published by the next one.
  const rest = await runUntilIdle(topicsFile, db.relayEnv());
  assert.equal(rest.code, 0, rest.output);

  const total = next - 1;
  const [pending] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dionysus_outboxes WHERE published_at IS NULL');
  assert.equal(pending?.n, 0);
  const messages = await consumeAll(topic, total, { settleMs: 1000 });
  const keys = new Set(messages.map((m) => m.key));
  for (let id = 1; id <= total; id++) assert.ok(keys.has(`User:${id}`), `row of user ${id} reached Kafka`);
});
