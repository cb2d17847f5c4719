import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { runUntilIdle, usersTopicsFile } from '../../helpers/relay-process';

// RELAY_ON_PUBLISH=delete: published rows are deleted instead of marked; failed rows stay, with
// the regular failure bookkeeping.

let db: TestDatabase;
const users = new UsersFixture('del', { users: 3 });
const { namespace, topic } = users;

before(async () => {
  db = await users.setUp();
});

after(async () => {
  await users.tearDown();
});

test('published rows are deleted, a failed row is kept and marked', async () => {
  for (const id of [1, 2, 3]) await insertOutboxRow(db, { resourceClass: 'User', resourceId: id, event: 'user_updated', topic });
  await insertOutboxRow(db, { resourceClass: 'Ghost', resourceId: 9, event: 'ghost_updated', topic });
  const file = usersTopicsFile(namespace);
  const run = await runUntilIdle(file, { ...db.relayEnv(), RELAY_ON_PUBLISH: 'delete' });
  assert.equal(run.code, 0, run.output);
  const messages = await consumeAll(topic, 3);
  assert.deepEqual(messages.map((m) => m.key).sort(), ['User:1', 'User:2', 'User:3']);
  const rows = await db.query<{ resource_class: string; error_class: string | null; attempts: number }>(
    'SELECT resource_class, error_class, attempts FROM dionysus_outboxes',
  );
  assert.deepEqual(rows, [{ resource_class: 'Ghost', error_class: 'UNKNOWN_MODEL', attempts: 1 }]);
});
