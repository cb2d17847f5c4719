import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { packageRoot } from '../../../src/package-root';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import type { RelayProcess } from '../../helpers/relay-process';
import { envelope, produceValues, second, sinkEnv, startSink, terminate, writeSinkFile } from '../../helpers/sink';
import { freePort, httpGet, sample, scrape, waitFor } from '../observability/support';

// What the gem's consumer does with messages (contract §5), checked in the tables of a running
// sink: the ordering guard, destroy as cancel and as delete, restore, links and polymorphic links,
// the in-batch de-duplication, the inbox. Poison messages: test/integration/sink/poison.test.ts.

let db: TestDatabase;
let sink: RelayProcess;
let port: number;
const ns = uniqueNamespace('sinksem');
const T = { users: `${ns}_users`, accounts: `${ns}_accounts` };

before(async () => {
  db = await createTestDatabase('sinksem');
  const synced = `synced_id bigint NOT NULL UNIQUE, synced_data jsonb, synced_created_at timestamp(6),
                  synced_updated_at timestamp(6), synced_canceled_at timestamp(6)`;
  await db.query(`CREATE TABLE users (id bigserial PRIMARY KEY, name text, email_address text, local_note text DEFAULT 'kept',
                  synced_account_id bigint, synced_tag_ids bigint[], synced_owner_id bigint, synced_owner_type text, ${synced})`);
  await db.query(`CREATE TABLE accounts (id bigserial PRIMARY KEY, name text, ${synced})`);
  await db.query(readFileSync(join(packageRoot(), 'sql', 'sink', 'dionysus_sink_inbox.sql'), 'utf8'));
  for (const topic of Object.values(T)) await createTopic(topic, 1);

  // Produced before the sink starts, so they reach it as one batch: the gem keeps, per event and
  // id, the message with the newest updated_at, and a missing one counts as now. One-by-one, the
  // last message (offset 2) would win instead.
  await produceValues(T.users, [
    { key: 'User:50', value: envelope('user_updated', 'User', { id: 50, name: 'first', updated_at: second(1), links: {} }) },
    { key: 'User:50', value: envelope('user_updated', 'User', { id: 50, name: 'no updated_at', links: {} }) },
    { key: 'User:50', value: envelope('user_updated', 'User', { id: 50, name: 'last', updated_at: second(2), links: {} }) },
  ]);

  port = await freePort();
  const sinkFile = writeSinkFile(`
client_id: semantics
namespace: ${ns}
topics:
  users: {soft_delete: cancel}
  accounts: {soft_delete: delete}
models:
  User:
    table: users
    rename: {email: email_address}
  Account:
    table: accounts
inbox:
  table: dionysus_sink_inbox
`);
  sink = await startSink(sinkFile, sinkEnv(db.schema, { HTTP_PORT: String(port), HEALTH_READINESS_INTERVAL_MS: '200' }));
});

after(async () => {
  if (sink?.child.exitCode === null) sink.kill('SIGKILL');
  await deleteTopics(Object.values(T));
  await db.drop();
});

type Row = Record<string, unknown>;

async function row(table: 'users' | 'accounts', syncedId: number): Promise<Row | undefined> {
  const rows = await db.query(`SELECT *, synced_canceled_at IS NOT NULL AS canceled FROM ${table} WHERE synced_id = $1`, [syncedId]);
  return rows[0];
}

/** Waits until the row of `syncedId` satisfies `ready`; returns it. */
function rowWhen(table: 'users' | 'accounts', syncedId: number, ready: (r: Row | undefined) => boolean, what: string): Promise<Row | undefined> {
  let last: Row | undefined;
  return waitFor(
    what,
    async () => {
      last = await row(table, syncedId);
      return ready(last) ? { row: last } : undefined;
    },
    { relay: sink, describe: () => `${JSON.stringify(last)}\n${sink.output().slice(-3000)}` },
  ).then((r) => r.row);
}

test('duplicates within a batch: one message per event and id, the newest updated_at (missing = now)', async () => {
  const user = await rowWhen('users', 50, (r) => r !== undefined, 'user 50');
  assert.equal(user?.['name'], 'no updated_at');
  const metrics = await scrape(port);
  assert.equal(sample(metrics, 'dionysus_relay_sink_messages_skipped_total', { topic: T.users, reason: 'duplicate' }), 2);
});

test('the ordering guard: an older message is skipped, an equal one applies', async () => {
  await produceValues(T.users, [{ key: 'User:1', value: envelope('user_created', 'User', { id: 1, name: 'v2', created_at: second(0), updated_at: second(20), links: {} }) }]);
  await rowWhen('users', 1, (r) => r?.['name'] === 'v2', 'user 1 v2');
  await produceValues(T.users, [{ key: 'User:1', value: envelope('user_updated', 'User', { id: 1, name: 'v1 (older)', created_at: second(0), updated_at: second(10), links: {} }) }]);
  const stale = await waitFor('the stale record counted', async () => {
    const m = await scrape(port);
    return (sample(m, 'dionysus_relay_sink_records_stale_total', { table: 'users' }) ?? 0) >= 1 ? m : undefined;
  });
  assert.ok(stale);
  assert.equal((await row('users', 1))?.['name'], 'v2');
  await produceValues(T.users, [{ key: 'User:1', value: envelope('user_updated', 'User', { id: 1, name: 'v2 again', created_at: second(0), updated_at: second(20), links: {} }) }]);
  const again = await rowWhen('users', 1, (r) => r?.['name'] === 'v2 again', 'equal updated_at applies');
  assert.equal((again?.['synced_updated_at'] as Date).toISOString(), second(20));
  assert.equal(again?.['local_note'], 'kept', 'columns the payload does not carry are left alone');
});

test('links, polymorphic links and renamed attributes land in their columns; synced_data keeps everything', async () => {
  // Written as text: a JS number would round 9007199254740993 and print 1.0 as 1, as the gem would not.
  const record =
    '{"id":2,"name":"Ariadne","email":"ariadne@example.com","big":9007199254740993,"ratio":1.0,' +
    `"created_at":"${second(1)}","updated_at":"${second(1)}","links":{"account":7,"tags":[3,4],"owner":{"id":9,"type":"Admin::User"}}}`;
  await produceValues(T.users, [{ key: 'User:2', value: `{"message":[{"event":"user_created","model_name":"User","data":[${record}]}]}` }]);
  const user = await rowWhen('users', 2, (r) => r !== undefined, 'user 2');
  assert.equal(user?.['email_address'], 'ariadne@example.com');
  assert.equal(user?.['synced_account_id'], '7');
  assert.deepEqual(user?.['synced_tag_ids'], ['3', '4']);
  assert.equal(user?.['synced_owner_id'], '9');
  assert.equal(user?.['synced_owner_type'], 'Admin::User');
  assert.equal(user?.['canceled'], false);
  const [data] = await db.query<{ text: string }>(`SELECT synced_data::text AS text FROM users WHERE synced_id = 2`);
  assert.equal(
    data?.text,
    '{"big": 9007199254740993, "name": "Ariadne", "email": "ariadne@example.com", "ratio": 1.0, "synced_id": 2, "synced_tag_ids": [3, 4], ' +
      '"synced_owner_id": 9, "synced_account_id": 7, "synced_created_at": "2024-01-01T00:00:01.000Z", "synced_owner_type": "Admin::User", ' +
      '"synced_updated_at": "2024-01-01T00:00:01.000Z"}',
  );
});

test('destroy as cancel (hard delete without canceled_at), then a later update restores', async () => {
  await produceValues(T.users, [{ key: 'User:3', value: envelope('user_created', 'User', { id: 3, name: 'Semele', created_at: second(1), updated_at: second(1), links: {} }) }]);
  await rowWhen('users', 3, (r) => r !== undefined, 'user 3');
  await produceValues(T.users, [{ key: 'User:3', value: envelope('user_destroyed', 'User', { links: {}, id: 3 }) }]);
  const canceled = await rowWhen('users', 3, (r) => r?.['canceled'] === true, 'user 3 cancelled');
  assert.equal(canceled?.['name'], 'Semele', 'cancelling keeps the row and its columns');
  assert.deepEqual(canceled?.['synced_data'], { synced_id: 3 }, 'as the gem, synced_data is the received hash');
  await produceValues(T.users, [{ key: 'User:3', value: envelope('user_updated', 'User', { id: 3, name: 'Semele restored', created_at: second(1), updated_at: second(5), links: {} }) }]);
  const restored = await rowWhen('users', 3, (r) => r?.['canceled'] === false, 'user 3 restored');
  assert.equal(restored?.['name'], 'Semele restored');
});

test('a soft delete with canceled_at stores it; destroy as delete removes the row', async () => {
  await produceValues(T.users, [{ key: 'User:4', value: envelope('user_destroyed', 'User', { id: 4, name: 'Silenus', created_at: second(1), updated_at: second(2), canceled_at: second(2), links: {} }) }]);
  const soft = await rowWhen('users', 4, (r) => r !== undefined, 'user 4');
  assert.equal((soft?.['synced_canceled_at'] as Date).toISOString(), second(2));

  await produceValues(T.accounts, [{ key: 'Account:1', value: envelope('account_created', 'Account', { id: 1, name: 'acme', created_at: second(1), updated_at: second(1), links: {} }) }]);
  await rowWhen('accounts', 1, (r) => r !== undefined, 'account 1');
  await produceValues(T.accounts, [{ key: 'Account:1', value: envelope('account_destroyed', 'Account', { links: {}, id: 1 }) }]);
  await rowWhen('accounts', 1, (r) => r === undefined, 'account 1 deleted');
  // A delete strategy still keeps a received canceled_at when the table can hold it.
  await produceValues(T.accounts, [{ key: 'Account:2', value: envelope('account_destroyed', 'Account', { id: 2, name: 'gone', created_at: second(1), updated_at: second(3), canceled_at: second(3), links: {} }) }]);
  const kept = await rowWhen('accounts', 2, (r) => r !== undefined, 'account 2');
  assert.equal(kept?.['canceled'], true);
});

test('tombstones change nothing; other events go to the inbox', async () => {
  await produceValues(T.users, [
    { key: 'User:2', value: null },
    { key: 'User:2', value: 'null' },
    { key: 'User:2', value: JSON.stringify({ message: [{ event: 'user_logged_in', model_name: 'User', data: [{ id: 2, ip: '10.0.0.1' }] }] }) },
  ]);
  const [entry] = await waitFor('the inbox entry', async () => {
    const rows = await db.query('SELECT topic, event_name, model_name, message_key, data FROM dionysus_sink_inbox');
    return rows.length > 0 ? rows : undefined;
  });
  assert.deepEqual(entry, { topic: T.users, event_name: 'user_logged_in', model_name: 'User', message_key: 'User:2', data: [{ id: 2, ip: '10.0.0.1' }] });
  assert.equal((await row('users', 2))?.['name'], 'Ariadne');
});

test('metrics, health and readiness of a running sink; SIGTERM drains and exits 0', async () => {
  const metrics = await scrape(port);
  assert.ok((sample(metrics, 'dionysus_relay_sink_messages_applied_total', { topic: T.users }) ?? 0) >= 10);
  assert.ok((sample(metrics, 'dionysus_relay_sink_records_applied_total', { table: 'users' }) ?? 0) >= 8);
  assert.equal(sample(metrics, 'dionysus_relay_sink_messages_skipped_total', { topic: T.users, reason: 'tombstone' }), 2);
  assert.equal(sample(metrics, 'dionysus_relay_sink_consumer_lag', { topic: T.users, partition: '0' }), 0);
  assert.equal(sample(metrics, 'dionysus_relay_sink_assigned_partitions'), 2);
  assert.ok((sample(metrics, 'dionysus_relay_sink_batch_apply_seconds_count', { topic: T.users }) ?? 0) >= 1);
  assert.ok((sample(metrics, 'dionysus_relay_sink_message_age_seconds_count', { topic: T.users }) ?? 0) >= 1);
  assert.equal((await httpGet(port, '/healthz')).status, 200);
  const ready = await waitFor('readiness', async () => {
    const answer = await httpGet(port, '/readyz');
    return answer.status === 200 ? answer : undefined;
  });
  assert.match(ready.body, /consumer connected/);
  assert.equal(await terminate(sink), 0, sink.output());
});
