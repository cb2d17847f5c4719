import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { keyHeads } from '../../../src/domain/strict-order';
import { OutboxStore } from '../../../src/postgres/outbox-store';
import { insertOutboxRow, relayPoolFor, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { runUntilIdle, usersTopicsFile } from '../../helpers/relay-process';

// ordering: strict with a partition_key shared by many resources (an account's users): the key's
// messages appear in outbox order even when its backlog spans more than one batch and several
// batches are in flight at once (each in-flight batch claims past the rows the others hold).

const USERS = 24;
const users = new UsersFixture('strictkey', { users: USERS });
const { namespace, topic } = users;
let db: TestDatabase;
let file: string;

before(async () => {
  db = await users.setUp();
  file = usersTopicsFile(namespace, undefined, { ordering: 'strict' });
});

after(async () => {
  await users.tearDown();
});

test('rows of one partition_key across many resources are published in outbox order by concurrent batches', async () => {
  // Two accounts, interleaved: every user is its own resource, each account one strict key.
  const expected = new Map<string, string[]>([
    ['acct-a', []],
    ['acct-b', []],
  ]);
  for (let id = 1; id <= USERS; id++) {
    const key = id % 2 === 0 ? 'acct-a' : 'acct-b';
    await insertOutboxRow(db, { resourceClass: 'User', resourceId: id, event: 'user_updated', topic, partitionKey: key });
    expected.get(key)?.push(`User:${id}`);
  }
  // Batches of 3 rows, 3 in flight: the first batch holds the oldest rows, so the second and
  // third claim rows further down the same keys while the first is still being published.
  const env = { ...db.relayEnv(), RELAY_BATCH_SIZE: '3', RELAY_MAX_INFLIGHT_BATCHES: '3' };
  const deadline = Date.now() + 90_000;
  let warned = true;
  for (;;) {
    const run = await runUntilIdle(file, env);
    assert.equal(run.code, 0, run.output);
    // This schema lacks sql/optional/strict_retry_index.sql: every start says what that costs.
    warned &&= /strict topic\(s\) [^ ]+: without the optional retry-wait index/.test(run.output);
    const [left] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dionysus_outboxes WHERE published_at IS NULL');
    if (left?.n === 0) break;
    if (Date.now() > deadline) assert.fail(`${left?.n} rows still pending`);
  }
  assert.ok(warned, 'the relay warns at start that strict claims read the whole backlog without the index');
  const messages = await consumeAll(topic, USERS);
  for (const [key, order] of expected) {
    const seen = messages.filter((m) => order.includes(m.key ?? '')).map((m) => m.key);
    assert.deepEqual(seen, order, `messages of ${key} in outbox order`);
  }
});

test('a strict batch publishes only heads: nothing of a key whose older row another batch holds', async () => {
  const t = `${topic}_claim`;
  const insert = (resourceId: number, partitionKey: string | null, createdAt: string): Promise<unknown> =>
    db.query(
      `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, partition_key, created_at, updated_at)
       VALUES ('User', $1, 'user_updated', $2, $3, $4::timestamp, $4::timestamp)`,
      [String(resourceId), t, partitionKey, createdAt],
    );
  await insert(1, 'k', '2026-01-01 00:00:01'); // head of k
  await insert(2, 'k', '2026-01-01 00:00:02');
  await insert(3, 'j', '2026-01-01 00:00:03'); // head of j; 4 shares its created_at but comes later
  await insert(4, 'j', '2026-01-01 00:00:03');
  await insert(5, '', '2026-01-01 00:00:04'); // an empty partition_key is none: keys User:5 and User:6
  await insert(6, '', '2026-01-01 00:00:05');
  await insert(7, 'i', '2026-01-01 00:00:06'); // i: a failed row waiting for its retry, then 8
  await db.query(`UPDATE dionysus_outboxes SET retry_at = now() + interval '1 hour', attempts = 1 WHERE topic = $1 AND resource_id = '7'`, [t]);
  await insert(8, 'i', '2026-01-01 00:00:07');
  const pool = relayPoolFor(db.schema);
  const store = new OutboxStore(pool, 'dionysus_outboxes');
  await store.probeCapabilities();
  const mode = { strict: true, changeset: false };
  const first = await store.claim(t, 1, 0, mode);
  const second = await store.claim(t, 10, 0, mode);
  try {
    assert.deepEqual(first?.rows.map((r) => r.resourceId), ['1'], 'the first batch claims the oldest row');
    // The second claim skips the first batch's row and so takes k's next row (and j's second),
    // but may publish only heads.
    assert.ok(second !== null);
    const publishable = keyHeads(second.rows, await second.strictPending(t));
    assert.deepEqual(publishable.map((r) => r.resourceId), ['3', '5', '6']);
  } finally {
    await first?.abandon();
    await second?.abandon();
    await pool.end();
    await db.query('DELETE FROM dionysus_outboxes WHERE topic = $1', [t]);
  }
});
