import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { runUntilIdle, usersTopicsFile } from '../../helpers/relay-process';

// A failing row fails alone: a serializer that errors for one record and a message the broker
// rejects (bigger than the topic's max.message.bytes) each mark only their own row, with the gem's
// bookkeeping; everything else in the batch publishes. After the maximum attempts a row is given up.

let db: TestDatabase;
// The broker refuses anything above 1,000 bytes on this topic.
const users = new UsersFixture('fail', { partitions: 2, topicConfig: { 'max.message.bytes': '1000' }, extraColumns: 'updated_at timestamp NOT NULL DEFAULT now()' });
const { namespace, topic } = users;
let topicsFile: string;

interface OutboxState extends Record<string, unknown> {
  resource_id: string;
  published_at: Date | null;
  failed_at: Date | null;
  retry_at: Date | null;
  retry_infinite: boolean;
  retry_delay_s: number | null;
  error_class: string | null;
  error_message: string | null;
  attempts: number;
}

async function outboxState(): Promise<Map<string, OutboxState>> {
  const rows = await db.query<OutboxState>(
    `SELECT resource_id, published_at, failed_at, retry_at, retry_at = 'infinity' AS retry_infinite,
            CASE WHEN retry_at <> 'infinity' THEN extract(epoch FROM retry_at - failed_at)::float8 END AS retry_delay_s,
            error_class, error_message, attempts
       FROM dionysus_outboxes ORDER BY id`,
  );
  return new Map(rows.map((r) => [r.resource_id, r]));
}

before(async () => {
  db = await users.setUp();
  // The serializer divides by zero for user 13 only.
  topicsFile = usersTopicsFile(namespace, 'SELECT id, name, 1 / (CASE WHEN id = 13 THEN 0 ELSE 1 END) AS ok FROM users WHERE id = ANY($1::bigint[])');
  for (let id = 1; id <= 20; id++) {
    const name = id === 7 ? 'x'.repeat(5000) : `user ${id}`;
    await db.query('INSERT INTO users (id, name) VALUES ($1, $2)', [id, name]);
    await insertOutboxRow(db, { resourceClass: 'User', resourceId: id, event: 'user_updated', topic });
  }
});

after(async () => {
  await users.tearDown();
});

test('a serializer error and an oversized message fail only their rows; the rest publish', async () => {
  const run = await runUntilIdle(topicsFile, { ...db.relayEnv(), RETRY_MAX_ATTEMPTS: '2', RELAY_BATCH_SIZE: '100' });
  assert.equal(run.code, 0, run.output);

  const state = await outboxState();
  for (const [id, row] of state) {
    if (id === '7' || id === '13') continue;
    assert.notEqual(row.published_at, null, `row of user ${id} published; relay output:\n${run.output}`);
    assert.equal(row.error_class, null);
  }

  const tooLarge = state.get('7');
  assert.equal(tooLarge?.published_at, null);
  assert.equal(tooLarge?.error_class, 'MESSAGE_TOO_LARGE');
  assert.match(tooLarge?.error_message ?? '', /MSG_SIZE_TOO_LARGE/);
  assert.equal(tooLarge?.attempts, 1);
  assert.notEqual(tooLarge?.failed_at, null);
  // The gem's schedule: 5 * 2^1 = 10 s after the failure.
  assert.ok(Math.abs((tooLarge?.retry_delay_s ?? 0) - 10) < 0.01, `retry delay ${tooLarge?.retry_delay_s}`);

  const brokenSerializer = state.get('13');
  assert.equal(brokenSerializer?.published_at, null);
  assert.equal(brokenSerializer?.error_class, 'SERIALIZER_FAILED');
  assert.match(brokenSerializer?.error_message ?? '', /division by zero/);
  assert.equal(brokenSerializer?.attempts, 1);
  assert.ok(Math.abs((brokenSerializer?.retry_delay_s ?? 0) - 10) < 0.01);

  const messages = await consumeAll(topic, 18);
  assert.deepEqual(
    messages.map((m) => m.key).sort(),
    Array.from({ length: 20 }, (_, i) => `User:${i + 1}`)
      .filter((k) => k !== 'User:7' && k !== 'User:13')
      .sort(),
  );
});

test('a row that keeps failing is given up after the maximum attempts and not claimed again', async () => {
  // Time passes: both failed rows become due again.
  await db.query(`UPDATE dionysus_outboxes SET retry_at = (now() AT TIME ZONE 'UTC') - interval '1 second' WHERE published_at IS NULL`);
  const second = await runUntilIdle(topicsFile, { ...db.relayEnv(), RETRY_MAX_ATTEMPTS: '2' });
  assert.equal(second.code, 0, second.output);
  let state = await outboxState();
  for (const id of ['7', '13']) {
    assert.equal(state.get(id)?.attempts, 2);
    assert.equal(state.get(id)?.retry_infinite, true, `user ${id} given up (retry_at = infinity)`);
    assert.equal(state.get(id)?.published_at, null);
  }
  assert.match(second.output, /given up/);

  const third = await runUntilIdle(topicsFile, { ...db.relayEnv(), RETRY_MAX_ATTEMPTS: '2' });
  assert.equal(third.code, 0, third.output);
  state = await outboxState();
  assert.equal(state.get('7')?.attempts, 2, 'a given-up row is not attempted again');
  assert.equal(state.get('13')?.attempts, 2);
});
