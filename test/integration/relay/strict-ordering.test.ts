import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { runUntilIdle, usersTopicsFile } from '../../helpers/relay-process';

// ordering: strict — a failed row holds back the later rows of its key (only that key) until it
// is published or given up; a row whose transaction commits late is not overtaken by a newer row
// of its key.

let db: TestDatabase;
const users = new UsersFixture('strict', { users: 9 });
const { namespace, topic } = users;
let file: string;
// A long retry delay: the Ghost row must not come due by itself while a test waits for other rows.
const env = (): Record<string, string> => ({ ...db.relayEnv(), RETRY_MAX_ATTEMPTS: '2', RETRY_BASE_SECONDS: '60' });

before(async () => {
  db = await users.setUp();
  file = usersTopicsFile(namespace, undefined, { ordering: 'strict' });
});

after(async () => {
  await users.tearDown();
});

/**
 * Strict claims also wait for write transactions of *other* sessions in the database that started
 * before a row (the commit-order rule), and other test files write to the same database meanwhile:
 * so a test runs the relay until what it expects is published, within a deadline, instead of once.
 */
async function runUntilPublished(expected: readonly string[]): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const run = await runUntilIdle(file, env());
    assert.equal(run.code, 0, run.output);
    const done = await published();
    if (expected.every((r) => done.includes(r))) return;
    if (Date.now() > deadline) assert.fail(`not published within the deadline: ${expected.filter((r) => !done.includes(r)).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const published = async (): Promise<string[]> =>
  (await db.query<{ r: string }>(`SELECT resource_class || ':' || resource_id AS r FROM dionysus_outboxes WHERE published_at IS NOT NULL ORDER BY published_at, id`)).map((x) => x.r);

test('a failed row holds back later rows of its key only, until it is given up', async () => {
  // Key k1: a row that cannot publish (no serializer for Ghost), then User 1. Key k2: User 2.
  await insertOutboxRow(db, { resourceClass: 'Ghost', resourceId: 1, event: 'ghost_updated', topic, partitionKey: 'k1' });
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 1, event: 'user_updated', topic, partitionKey: 'k1' });
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 2, event: 'user_updated', topic, partitionKey: 'k2' });
  await runUntilPublished(['User:2']);
  const [ghost] = await db.query<{ attempts: number }>(`SELECT attempts FROM dionysus_outboxes WHERE resource_class = 'Ghost'`);
  assert.equal(ghost?.attempts, 1, 'the Ghost row failed once');
  assert.deepEqual(await published(), ['User:2'], 'User 1 waits behind the failed Ghost row of its key');

  // The Ghost row fails again and is given up (RETRY_MAX_ATTEMPTS=2): User 1 may go now.
  await db.query(`UPDATE dionysus_outboxes SET retry_at = (now() AT TIME ZONE 'UTC') - interval '1 second' WHERE resource_class = 'Ghost'`);
  await runUntilPublished(['User:2', 'User:1']);
  assert.deepEqual(await published(), ['User:2', 'User:1']);
  const messages = await consumeAll(topic, 2);
  assert.deepEqual(messages.map((m) => m.key), ['User:2', 'User:1']);
});

test('a row committed late is not overtaken by a newer row of its key', async () => {
  const late = await db.pool.connect();
  try {
    await late.query('BEGIN');
    // The older row: written first, committed last.
    await late.query(
      `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, partition_key, created_at, updated_at)
       VALUES ('User', '3', 'user_created', $1, 'k3', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')`,
      [topic],
    );
    await insertOutboxRow(db, { resourceClass: 'User', resourceId: 4, event: 'user_updated', topic, partitionKey: 'k3' });
    const run = await runUntilIdle(file, env());
    assert.equal(run.code, 0, run.output);
    assert.ok(!(await published()).includes('User:4'), 'the newer row waits while an older transaction is open');
    await late.query('COMMIT');
    await runUntilPublished(['User:3', 'User:4']);
  } finally {
    late.release();
  }
  const order = (await published()).filter((r) => r === 'User:3' || r === 'User:4');
  assert.deepEqual(order, ['User:3', 'User:4']);
  const keys = (await consumeAll(topic, 4)).map((m) => m.key).filter((k) => k === 'User:3' || k === 'User:4');
  assert.deepEqual(keys, ['User:3', 'User:4']);
});

test("a relay's own claim transaction does not hold the horizon, whatever its application_name", async () => {
  // A relay batch waiting for a slow broker: its claim transaction is open, its connection named
  // by the DATABASE_URL (not dionysus-relay...), its xid registered as the claim's in dionysus_relay_inflight.
  const relayLike = await db.pool.connect();
  // That relay is alive (its instance lock is held), or crash recovery would drop its entry.
  const alive = await db.pool.connect();
  try {
    await alive.query(`SELECT pg_advisory_lock(hashtextextended('dionysus_relay_instance:other-relay', 0))`);
    await relayLike.query(`SET application_name = 'billing-app'`);
    await relayLike.query('BEGIN');
    const [row] = (await relayLike.query<{ xid: string }>('SELECT txid_current()::text AS xid')).rows;
    await db.query(`INSERT INTO dionysus_relay_inflight (instance, row_ids, claim_xid) VALUES ('other-relay', '{}', $1)`, [row?.xid]);
    await insertOutboxRow(db, { resourceClass: 'User', resourceId: 5, event: 'user_updated', topic, partitionKey: 'k5' });
    await runUntilPublished(['User:5']);
  } finally {
    await relayLike.query('ROLLBACK');
    relayLike.release();
    alive.release(true);
    await db.query(`DELETE FROM dionysus_relay_inflight WHERE instance = 'other-relay'`);
  }
});
