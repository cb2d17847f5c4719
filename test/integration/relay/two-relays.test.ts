import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { startRelay, usersTopicsFile } from '../../helpers/relay-process';

// Two relay processes on one table: FOR UPDATE SKIP LOCKED hands every row to exactly one of them.

let db: TestDatabase;
const namespace = uniqueNamespace('two');
const topic = `${namespace}_users`;
const ROWS = 3000;

before(async () => {
  db = await createTestDatabase('two');
  await db.query(`CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL)`);
  await db.query(`INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, ${ROWS}) g`);
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
     SELECT 'User', g::text, 'user_created', $1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
       FROM generate_series(1, ${ROWS}) g`,
    [topic],
  );
  await createTopic(topic, 4);
});

after(async () => {
  await deleteTopics([topic]);
  await db.drop();
});

test('two relays on one table publish every row exactly once', async () => {
  const topicsFile = usersTopicsFile(namespace);
  // Small batches so that both relays get many turns at the same rows.
  const env = { ...db.relayEnv(), RELAY_BATCH_SIZE: '25', RELAY_MAX_INFLIGHT_BATCHES: '2' };
  const relays = [startRelay(['run', '--exit-when-idle', '--topics', topicsFile], env), startRelay(['run', '--exit-when-idle', '--topics', topicsFile], env)];
  const codes = await Promise.all(relays.map((r) => r.exited));
  assert.deepEqual(codes, [0, 0], relays.map((r) => r.output()).join('\n'));

  const [pending] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dionysus_outboxes WHERE published_at IS NULL');
  assert.equal(pending?.n, 0);

  const messages = await consumeAll(topic, ROWS, { settleMs: 2000 });
  assert.equal(messages.length, ROWS, 'no row was published twice');
  assert.equal(new Set(messages.map((m) => m.key)).size, ROWS, 'every row was published');
});
