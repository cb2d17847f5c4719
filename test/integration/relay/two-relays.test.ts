import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { startRelay, usersTopicsFile } from '../../helpers/relay-process';

// Two relay processes on one table: FOR UPDATE SKIP LOCKED hands every row to exactly one of them.

const ROWS = 3000;
const users = new UsersFixture('two', { partitions: 4, users: ROWS });
const { namespace, topic } = users;
let db: TestDatabase;

before(async () => {
  db = await users.setUp();
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
     SELECT 'User', g::text, 'user_created', $1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
       FROM generate_series(1, ${ROWS}) g`,
    [topic],
  );
});

after(async () => {
  await users.tearDown();
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
