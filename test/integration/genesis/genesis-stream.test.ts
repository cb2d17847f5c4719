import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { choosePartition } from '../../../src/domain/partitioner';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { writeTopicsFile } from '../../helpers/relay-process';
import { USERS_SQL, countByKey, decode, insertUsers, runGenesis, runRows, type DecodedMessage } from './support';

// Genesis of 10,000 records: every record exactly once on the right topic(s), in the regular wire
// format: user_updated, or user_destroyed with the full record for soft-deleted ones; key User:<id>,
// partition crc32(account_id) like the relay. No outbox row is written.

const COUNT = 10_000;
const PARTITIONS = 3;
let db: TestDatabase;
const namespace = uniqueNamespace('gen');
// Two replica pairs, so each test reads topics no other test writes to.
const both = `${namespace}_users`;
const only = `${namespace}_members`;
const topics = [both, `${both}_genesis`, only, `${only}_genesis`];
let topicsFile: string;

before(async () => {
  db = await createTestDatabase('gen');
  await insertUsers(db, COUNT);
  await Promise.all(topics.map((t) => createTopic(t, PARTITIONS)));
  topicsFile = writeTopicsFile(`
namespace: ${namespace}
topics:
  users:
    genesis_replica: true
    models:
      User:
        sql: ${USERS_SQL}
        table: users
  members:
    genesis_replica: true
    models:
      User:
        sql: ${USERS_SQL}
        table: users
`);
});

after(async () => {
  await deleteTopics(topics);
  await db.drop();
});

function assertEveryUserOnce(messages: DecodedMessage[], topic: string): void {
  assert.equal(messages.length, COUNT, `${topic}: message count`);
  const counts = countByKey(messages);
  assert.equal(counts.size, COUNT, `${topic}: distinct keys`);
  for (let id = 1; id <= COUNT; id++) assert.equal(counts.get(`User:${id}`), 1, `${topic}: User:${id}`);
  for (const m of messages) {
    const id = Number(m.record['id']);
    const canceled = id % 10 === 0;
    assert.equal(m.key, `User:${id}`);
    assert.equal(m.modelName, 'User');
    assert.equal(m.event, canceled ? 'user_destroyed' : 'user_updated', `${topic}: event of ${id}`);
    assert.equal(m.partition, choosePartition(String(id % 13), m.key, PARTITIONS), `${topic}: partition of ${id}`);
    assert.equal(m.record['canceled_at'], canceled ? '2024-03-01T00:00:00.000Z' : null);
  }
}

test('--topic <primary of a replica pair>: all 10,000 records, once each, on both topics', async () => {
  const r = runGenesis(db, ['--topics', topicsFile, '--topic', 'users', '--model', 'User', '--batch-size', '1000']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /genesis run \d+ done: 10,000 sent, 0 skipped/);

  const primary = decode(await consumeAll(both, COUNT, { timeoutMs: 60_000, settleMs: 1_000 }));
  const replica = decode(await consumeAll(`${both}_genesis`, COUNT, { timeoutMs: 60_000, settleMs: 1_000 }));
  assertEveryUserOnce(primary, both);
  assertEveryUserOnce(replica, `${both}_genesis`);

  // The full serialized record, byte-compatible with what the relay sends for an outbox row.
  const destroyed = primary.find((m) => m.key === 'User:10');
  assert.deepEqual(destroyed?.record, {
    id: 10,
    name: 'user 10',
    account_id: 10,
    created_at: '2024-01-01T00:10:00.000Z',
    updated_at: '2024-02-01T00:10:00.000Z',
    canceled_at: '2024-03-01T00:00:00.000Z',
    links: {},
  });

  const [run] = await runRows(db);
  assert.equal(run?.status, 'done');
  assert.equal(run?.sent, COUNT);
  assert.equal(run?.total_estimate, COUNT);
  assert.equal(run?.last_id, String(COUNT));
  const [outbox] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM dionysus_outboxes');
  assert.equal(outbox?.n, 0, 'genesis writes no outbox rows');
});

test('--topic <name>_genesis: only the replica topic receives the records', async () => {
  const r = runGenesis(db, ['--topics', topicsFile, '--topic', `${only}_genesis`, '--model', 'User']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assertEveryUserOnce(decode(await consumeAll(`${only}_genesis`, COUNT, { timeoutMs: 60_000, settleMs: 1_000 })), `${only}_genesis`);
  // The primary topic stays empty: nothing arrives within the wait.
  await assert.rejects(consumeAll(only, 1, { timeoutMs: 2_000 }), /expected 1 messages, got 0/);
});
