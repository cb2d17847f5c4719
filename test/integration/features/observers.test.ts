import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { runUntilIdle, writeTopicsFile } from '../../helpers/relay-process';

// Observers: an `__outbox_observer__` row saying Account 1 changed default_check_in_time republishes
// that account's rentals as rental_updated; a fan-out above observer_inline_limit is handed to the
// outbox (rows of the rentals topic, written with the observer row's mark) instead of sent inline.

let db: TestDatabase;
const namespace = uniqueNamespace('obs');
let serial = 0;
const created: string[] = [];

before(async () => {
  db = await createTestDatabase('obs');
  await db.query(`CREATE TABLE accounts (id bigint PRIMARY KEY, default_check_in_time text NOT NULL)`);
  await db.query(`CREATE TABLE rentals (id bigint PRIMARY KEY, account_id bigint NOT NULL, name text NOT NULL)`);
  await db.query(`INSERT INTO accounts VALUES (1, '15:00'), (2, '16:00')`);
  await db.query(`INSERT INTO rentals VALUES (101, 1, 'Villa'), (102, 1, 'Loft'), (103, 1, 'Barn'), (201, 2, 'Other')`);
});

after(async () => {
  await deleteTopics(created);
  await db.drop();
});

async function setup(inlineLimit: number): Promise<{ topic: string; file: string }> {
  serial += 1;
  const key = `rentals${serial}`;
  const topic = `${namespace}_${key}`;
  await createTopic(topic, 3);
  created.push(topic);
  const file = writeTopicsFile(`
namespace: ${namespace}
observer_inline_limit: ${inlineLimit}
topics:
  ${key}:
    models:
      Rental:
        sql: SELECT r.id, r.account_id, r.name, a.default_check_in_time FROM rentals r JOIN accounts a ON a.id = r.account_id WHERE r.id = ANY($1::bigint[])
observers:
  account_check_in:
    model: Account
    attributes: [default_check_in_time]
    topic: ${key}
    republish: Rental
    sql: SELECT id FROM rentals WHERE account_id = ANY($1::bigint[])
`);
  return { topic, file };
}

async function observerRow(changeset: object): Promise<void> {
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, changeset, created_at, updated_at)
     VALUES ('Account', '1', 'account_updated', '__outbox_observer__', $1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')`,
    [JSON.stringify(changeset)],
  );
}

test('a change of an observed attribute republishes the related records inline', async () => {
  const { topic, file } = await setup(1000);
  await db.query(`UPDATE accounts SET default_check_in_time = '14:00' WHERE id = 1`);
  await observerRow({ default_check_in_time: ['15:00', '14:00'] });
  // A change of another attribute republishes nothing.
  await observerRow({ name: ['a', 'b'] });
  const run = await runUntilIdle(file, db.relayEnv());
  assert.equal(run.code, 0, run.output);
  const messages = await consumeAll(topic, 3, { settleMs: 1500 });
  assert.deepEqual(messages.map((m) => m.key).sort(), ['Rental:101', 'Rental:102', 'Rental:103']);
  for (const m of messages) assert.match(m.value?.toString() ?? '', /^\{"message":\[\{"event":"rental_updated","model_name":"Rental".*"default_check_in_time":"14:00"/);
  const [pending] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dionysus_outboxes WHERE published_at IS NULL`);
  assert.equal(pending?.n, 0);
});

test('a fan-out above the inline limit goes through the outbox and is published from there', async () => {
  const { topic, file } = await setup(2);
  await db.query(`UPDATE accounts SET default_check_in_time = '13:00' WHERE id = 1`);
  await observerRow({ default_check_in_time: ['14:00', '13:00'] });
  const run = await runUntilIdle(file, db.relayEnv());
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /observer fan-out handed to the outbox/);
  const fanout = await db.query<{ resource_id: string; event_name: string; published: boolean }>(
    `SELECT resource_id, event_name, published_at IS NOT NULL AS published FROM dionysus_outboxes WHERE topic = $1 ORDER BY resource_id`,
    [topic],
  );
  assert.deepEqual(fanout, [
    { resource_id: '101', event_name: 'rental_updated', published: true },
    { resource_id: '102', event_name: 'rental_updated', published: true },
    { resource_id: '103', event_name: 'rental_updated', published: true },
  ]);
  const messages = await consumeAll(topic, 3, { settleMs: 1000 });
  assert.deepEqual(messages.map((m) => m.key).sort(), ['Rental:101', 'Rental:102', 'Rental:103']);
});
