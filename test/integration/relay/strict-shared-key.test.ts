import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { beginAndClaimText, outboxStatements } from '../../../src/postgres/outbox-sql';
import { createTestDatabase, insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { runUntilIdle, writeTopicsFile } from '../../helpers/relay-process';

// ordering: strict with a partition_key shared by many resources (an account's users): the key's
// messages appear in outbox order even when its backlog spans more than one batch and several
// batches are in flight at once (each in-flight batch claims past the rows the others hold).

let db: TestDatabase;
const namespace = uniqueNamespace('strictkey');
const topic = `${namespace}_users`;
const USERS = 24;
let file: string;

before(async () => {
  db = await createTestDatabase('strictkey');
  await db.query(`CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL)`);
  await db.query(`INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, ${USERS}) g`);
  await createTopic(topic, 1);
  file = writeTopicsFile(`
namespace: ${namespace}
topics:
  users:
    ordering: strict
    models:
      User:
        sql: SELECT id, name FROM users WHERE id = ANY($1::bigint[])
`);
});

after(async () => {
  await deleteTopics([topic]);
  await db.drop();
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
  for (;;) {
    const run = await runUntilIdle(file, env);
    assert.equal(run.code, 0, run.output);
    const [left] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dionysus_outboxes WHERE published_at IS NULL');
    if (left?.n === 0) break;
    if (Date.now() > deadline) assert.fail(`${left?.n} rows still pending`);
  }
  const messages = await consumeAll(topic, USERS);
  for (const [key, order] of expected) {
    const seen = messages.filter((m) => order.includes(m.key ?? '')).map((m) => m.key);
    assert.deepEqual(seen, order, `messages of ${key} in outbox order`);
  }
});

test('a strict claim takes only the head of each key, and nothing of a key whose head another batch holds', async () => {
  const t = `${topic}_claim`;
  const insert = (resourceId: number, partitionKey: string | null, createdAt: string): Promise<unknown> =>
    db.query(
      `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, partition_key, created_at, updated_at)
       VALUES ('User', $1, 'user_updated', $2, $3, $4::timestamp, $4::timestamp)`,
      [String(resourceId), t, partitionKey, createdAt],
    );
  await insert(1, 'k', '2026-01-01 00:00:01'); // head of k
  await insert(2, 'k', '2026-01-01 00:00:02');
  await insert(3, 'j', '2026-01-01 00:00:03'); // head of j; 4 shares its created_at but comes later (id)
  await insert(4, 'j', '2026-01-01 00:00:03');
  await insert(5, '', '2026-01-01 00:00:04'); // an empty partition_key is none: keys User:5 and User:6
  await insert(6, '', '2026-01-01 00:00:05');
  const statements = outboxStatements('dionysus_outboxes', 'mark', { relayXids: true });
  const claim = (limit: number): string => beginAndClaimText(statements.beginClaim, statements.claims.strict, { topic: t, delayMs: 0, limit });
  const first = await db.pool.connect();
  const second = await db.pool.connect();
  try {
    const a = await first.query(claim(1));
    const claimedA = (a as unknown as Array<{ rows: Array<{ resource_id: string }> }>).at(-1)?.rows.map((r) => r.resource_id);
    assert.deepEqual(claimedA, ['1'], 'the first batch takes the oldest head');
    // The second batch skips the first one's row, but must not take k's next row either.
    const b = await second.query(claim(10));
    const claimedB = (b as unknown as Array<{ rows: Array<{ resource_id: string }> }>).at(-1)?.rows.map((r) => r.resource_id);
    assert.deepEqual(claimedB, ['3', '5', '6']);
  } finally {
    await first.query('ROLLBACK');
    await second.query('ROLLBACK');
    first.release();
    second.release();
    await db.query('DELETE FROM dionysus_outboxes WHERE topic = $1', [t]);
  }
});
