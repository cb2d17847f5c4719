import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { baseRelayEnv, cliPath, runUntilIdle, usersTopicsFile } from '../../helpers/relay-process';

// Bad input gets a precise error and affects nothing else: a serializer slower than
// statement_timeout fails only its row (SERIALIZER_TIMEOUT); bytea cannot be encoded
// (ENCODING_FAILED); an unreachable broker list stops the start naming KAFKA_BROKERS.

let db: TestDatabase;
const users = new UsersFixture('bad', { extraColumns: 'avatar bytea' });
const { namespace, topic } = users;

before(async () => {
  db = await users.setUp();
  await db.query(`INSERT INTO users SELECT g, 'user ' || g, CASE WHEN g = 5 THEN '\\x00ff'::bytea END FROM generate_series(1, 6) g`);
});

after(async () => {
  await users.tearDown();
});

test('a slow serializer and an unencodable value fail only their rows, with precise classes', async () => {
  for (let id = 1; id <= 6; id++) await insertOutboxRow(db, { resourceClass: 'User', resourceId: id, event: 'user_updated', topic });
  const file = usersTopicsFile(namespace, 'SELECT id, name, avatar, CASE WHEN id = 3 THEN pg_sleep(3)::text END AS slow FROM users WHERE id = ANY($1::bigint[])');
  const run = await runUntilIdle(file, { ...db.relayEnv(), DATABASE_STATEMENT_TIMEOUT_MS: '1000' });
  assert.equal(run.code, 0, run.output);
  const rows = await db.query<{ resource_id: string; published: boolean; error_class: string | null; error_message: string | null }>(
    `SELECT resource_id, published_at IS NOT NULL AS published, error_class, error_message FROM dionysus_outboxes ORDER BY id`,
  );
  for (const row of rows) {
    if (row.resource_id === '3') {
      assert.equal(row.error_class, 'SERIALIZER_TIMEOUT');
      assert.match(row.error_message ?? '', /statement timeout/);
    } else if (row.resource_id === '5') {
      assert.equal(row.error_class, 'ENCODING_FAILED');
      assert.match(row.error_message ?? '', /bytea/);
    } else {
      assert.equal(row.published, true, `user ${row.resource_id} published`);
    }
  }
  const messages = await consumeAll(topic, 4);
  assert.deepEqual(messages.map((m) => m.key).sort(), ['User:1', 'User:2', 'User:4', 'User:6']);
});

test('an unreachable broker list stops a one-shot run at once, naming KAFKA_BROKERS', () => {
  const r = spawnSync(process.execPath, [cliPath(), 'run', '--exit-when-idle', '--topics', usersTopicsFile(namespace)], {
    env: baseRelayEnv({ ...db.relayEnv(), KAFKA_BROKERS: '127.0.0.1:1' }),
    encoding: 'utf8',
    timeout: 90_000,
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /cannot start \[KAFKA_UNAVAILABLE\]/);
  assert.match(r.stderr, /KAFKA_BROKERS=127\.0\.0\.1:1/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
