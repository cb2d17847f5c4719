import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { runRelayUntilIdle } from '../../helpers/fixtures';
import { createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { usersTopicsFile, type RelayProcess } from '../../helpers/relay-process';
import { sinkEnv, startSink, terminate, writeSinkFile } from '../../helpers/sink';
import { waitFor } from '../observability/support';

// The dionysus-rb introduction end to end, without Ruby: a producer application's users table
// and its outbox, the relay, Kafka, the sink, and the consumer application's users table with
// synced_id, synced_created_at, synced_updated_at and synced_data. Then a rename arrives.

let producer: TestDatabase;
let consumer: TestDatabase;
let sink: RelayProcess | undefined;
const namespace = uniqueNamespace('sinkwalk');
const topic = `${namespace}_users`;

interface ConsumerUser {
  id: string;
  name: string;
  synced_id: string;
  synced_created_at: Date;
  synced_updated_at: Date;
  synced_data: Record<string, unknown>;
}

before(async () => {
  producer = await createTestDatabase('sinkwalkp');
  consumer = await createTestDatabase('sinkwalkc');
  await producer.query(`CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL,
                        created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);
  // The consumer's migration from the introduction: its own ids, the remote one in synced_id.
  await consumer.query(`CREATE TABLE users (id bigserial PRIMARY KEY, name text,
                        synced_id bigint NOT NULL, synced_created_at timestamp(6), synced_updated_at timestamp(6),
                        synced_data jsonb)`);
  await consumer.query('CREATE UNIQUE INDEX users_synced_id ON users (synced_id)');
  await createTopic(topic, 3);
});

after(async () => {
  if (sink !== undefined && sink.child.exitCode === null) sink.kill('SIGKILL');
  await deleteTopics([topic]);
  await producer.drop();
  await consumer.drop();
});

/** The producer side: the change and its outbox row in one transaction, then the relay until idle. */
async function publish(statement: string, event: string): Promise<void> {
  const client = await producer.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(statement);
    await insertOutboxRow({ query: async (text, values) => (await client.query(text, values)).rows }, { resourceClass: 'User', resourceId: 1, event, topic });
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  await runRelayUntilIdle(producer, usersTopicsFile(namespace, 'SELECT id, name, created_at, updated_at FROM users WHERE id = ANY($1::bigint[])'));
}

async function consumerUsers(): Promise<ConsumerUser[]> {
  return consumer.query<ConsumerUser & Record<string, unknown>>('SELECT id::text, name, synced_id::text, synced_created_at, synced_updated_at, synced_data FROM users ORDER BY id');
}

test('a user published by the relay appears in the consumer table, then its rename', async () => {
  await publish(`INSERT INTO users (id, name, created_at, updated_at) VALUES (1, 'Dionysus', '2024-01-01 10:00:00.123', '2024-01-02 10:00:00')`, 'user_created');

  const sinkFile = writeSinkFile(`
client_id: consumer_app
namespace: ${namespace}
topics:
  users: {}
models:
  User:
    table: users
`);
  sink = await startSink(sinkFile, sinkEnv(consumer.schema));
  const [created] = await waitFor('the user in the consumer table', async () => {
    const rows = await consumerUsers();
    return rows.length > 0 ? rows : undefined;
  }, { relay: sink, describe: () => sink?.output() ?? '' });
  assert.equal(created?.name, 'Dionysus');
  assert.equal(created?.synced_id, '1');
  assert.equal(created?.synced_created_at.toISOString(), '2024-01-01T10:00:00.123Z');
  assert.equal(created?.synced_updated_at.toISOString(), '2024-01-02T10:00:00.000Z');
  assert.deepEqual(created?.synced_data, {
    synced_id: 1,
    synced_created_at: '2024-01-01T10:00:00.123Z',
    synced_updated_at: '2024-01-02T10:00:00.000Z',
    name: 'Dionysus',
  });

  await publish(`UPDATE users SET name = 'Dionysus, god of wine', updated_at = '2024-01-03 08:30:00' WHERE id = 1`, 'user_updated');
  const renamed = await waitFor('the rename in the consumer table', async () => {
    const rows = await consumerUsers();
    return rows[0]?.name === 'Dionysus, god of wine' ? rows : undefined;
  }, { relay: sink, describe: () => sink?.output() ?? '' });
  assert.equal(renamed.length, 1, 'the same row, updated');
  assert.equal(renamed[0]?.id, created?.id);
  assert.equal(renamed[0]?.synced_updated_at.toISOString(), '2024-01-03T08:30:00.000Z');
  assert.equal(renamed[0]?.synced_created_at.toISOString(), '2024-01-01T10:00:00.123Z');
  assert.equal(renamed[0]?.synced_data['name'], 'Dionysus, god of wine');

  assert.equal(await terminate(sink), 0, sink.output());
  assert.match(sink.output(), /"shutdown complete"/);
});
