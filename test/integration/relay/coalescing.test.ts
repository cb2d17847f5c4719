import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll, createTopic, deleteTopics } from '../../helpers/kafka';
import { runUntilIdle, usersTopicsFile } from '../../helpers/relay-process';

// Duplicate coalescing: five pending updates of one user publish one message with the latest
// state, and all five rows are marked published. Another user's single row is unaffected.

let db: TestDatabase;
const users = new UsersFixture('coal');
const { namespace, topic } = users;

before(async () => {
  db = await users.setUp();
});

after(async () => {
  await users.tearDown();
});

test('five pending updates of one user publish one message, all five rows marked', async () => {
  await db.query(`INSERT INTO users VALUES (1, 'v0'), (2, 'other')`);
  for (let v = 1; v <= 5; v++) {
    await db.query(`UPDATE users SET name = $1 WHERE id = 1`, [`v${v}`]);
    await insertOutboxRow(db, { resourceClass: 'User', resourceId: 1, event: 'user_updated', topic });
  }
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 2, event: 'user_updated', topic });
  const run = await runUntilIdle(usersTopicsFile(namespace, undefined, { coalesce: true }), db.relayEnv());
  assert.equal(run.code, 0, run.output);

  const messages = await consumeAll(topic, 2, { settleMs: 1500 });
  assert.deepEqual(
    messages.map((m) => m.value?.toString()),
    [
      '{"message":[{"event":"user_updated","model_name":"User","data":[{"id":1,"name":"v5","links":{}}]}]}',
      '{"message":[{"event":"user_updated","model_name":"User","data":[{"id":2,"name":"other","links":{}}]}]}',
    ],
  );
  const [counts] = await db.query<{ published: number; pending: number }>(
    `SELECT count(*) FILTER (WHERE published_at IS NOT NULL)::int AS published, count(*) FILTER (WHERE published_at IS NULL)::int AS pending
       FROM dionysus_outboxes`,
  );
  assert.deepEqual(counts, { published: 6, pending: 0 });
});

test('a crash suspect in a coalescing batch is published alone, then the rest, coalesced', async () => {
  // User 10's row was in flight when a relay crashed; users 11's two rows coalesce.
  await db.query(`INSERT INTO users VALUES (10, 'suspect'), (11, 'twice')`);
  const t = `${namespace}_suspect_users`;
  await createTopic(t, 1);
  try {
    const suspectRow = await insertOutboxRow(db, { resourceClass: 'User', resourceId: 10, event: 'user_updated', topic: t });
    await insertOutboxRow(db, { resourceClass: 'User', resourceId: 11, event: 'user_updated', topic: t });
    await insertOutboxRow(db, { resourceClass: 'User', resourceId: 11, event: 'user_updated', topic: t });
    await db.query('INSERT INTO dionysus_relay_suspects (row_id, crashes) VALUES ($1, 1)', [suspectRow]);
    const run = await runUntilIdle(usersTopicsFile(`${namespace}_suspect`, undefined, { coalesce: true }), db.relayEnv(), 30_000);
    assert.equal(run.code, 0, run.output);
    const messages = await consumeAll(t, 2, { settleMs: 1500 });
    assert.deepEqual(messages.map((m) => m.key), ['User:10', 'User:11']);
    const [pending] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dionysus_outboxes WHERE topic = $1 AND published_at IS NULL`, [t]);
    assert.equal(pending?.n, 0);
  } finally {
    await deleteTopics([t]);
  }
});
