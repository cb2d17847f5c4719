import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { runUntilIdle, writeTopicsFile } from '../../helpers/relay-process';

// The walk-through of the dionysus-rb introduction: a users table, its serializer, a user named
// "Dionysus" inserted with its user_created outbox row in one transaction → exactly one message.

let db: TestDatabase;
const namespace = uniqueNamespace('walk');
const topic = `${namespace}_users`;

before(async () => {
  db = await createTestDatabase('walk');
  await db.query(`CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL,
                  created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);
  await createTopic(topic, 3);
});

after(async () => {
  await deleteTopics([topic]);
  await db.drop();
});

test('a user created in one transaction with its outbox row is published once, byte for byte', async () => {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO users (id, name, created_at, updated_at)
       VALUES (1, 'Dionysus', '2024-01-01 10:00:00.123456', '2024-01-02 10:00:00')`,
    );
    await client.query(
      `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
       VALUES ('User', '1', 'user_created', $1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')`,
      [topic],
    );
    await client.query('COMMIT');
  } finally {
    client.release();
  }

  const topicsFile = writeTopicsFile(`
namespace: ${namespace}
topics:
  users:
    partition_key: id
    genesis_replica: false
    models:
      User:
        sql: SELECT id, name, created_at, updated_at FROM users WHERE id = ANY($1::bigint[])
`);
  const run = await runUntilIdle(topicsFile, db.relayEnv());
  assert.equal(run.code, 0, run.output);

  const messages = await consumeAll(topic, 1);
  assert.equal(messages.length, 1);
  const [message] = messages;
  assert.equal(message?.key, 'User:1');
  // python3: zlib.crc32(b"1") % 3 == 2
  assert.equal(message?.partition, 2);
  assert.equal(
    message?.value?.toString('utf8'),
    '{"message":[{"event":"user_created","model_name":"User","data":[{"id":1,"name":"Dionysus",' +
      '"created_at":"2024-01-01T10:00:00.123Z","updated_at":"2024-01-02T10:00:00.000Z","links":{}}]}]}',
  );

  const [row] = await db.query<{ published_at: Date | null; attempts: number; error_class: string | null }>(
    'SELECT published_at, attempts, error_class FROM dionysus_outboxes',
  );
  assert.notEqual(row?.published_at, null);
  assert.equal(row?.attempts, 0);
  assert.equal(row?.error_class, null);
});
