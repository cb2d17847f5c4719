import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { runUntilIdle, writeTopicsFile } from '../../helpers/relay-process';

// A changeset column of type text (the gem's encrypted changesets) may hold text that is not JSON:
// that row publishes as if no observed attribute had changed, instead of failing the claim of every
// observer row on every attempt; a JSON object in the text is read as usual.

let db: TestDatabase;
const namespace = uniqueNamespace('txtcs');
const topic = `${namespace}_rentals`;

before(async () => {
  db = await createTestDatabase('txtcs');
  await db.query(`ALTER TABLE dionysus_outboxes ALTER COLUMN changeset TYPE text`);
  await db.query(`CREATE TABLE rentals (id bigint PRIMARY KEY, account_id bigint NOT NULL)`);
  await db.query(`INSERT INTO rentals VALUES (101, 1), (201, 2)`);
  await createTopic(topic, 1);
});

after(async () => {
  await deleteTopics([topic]);
  await db.drop();
});

test('a changeset that is not JSON observes nothing; the row is published and the claim goes on', async () => {
  const file = writeTopicsFile(`
namespace: ${namespace}
topics:
  rentals:
    models:
      Rental:
        sql: SELECT id, account_id FROM rentals WHERE id = ANY($1::bigint[])
observers:
  account_check_in:
    model: Account
    attributes: [check_in]
    topic: rentals
    republish: Rental
    sql: SELECT id FROM rentals WHERE account_id = ANY($1::bigint[])
`);
  for (const [account, changeset] of [
    ['1', 'v1:c2VjcmV0IGNoYW5nZXNldA==:aXY='],
    ['2', '{"check_in": ["15:00", "14:00"]}'],
  ]) {
    await db.query(
      `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, changeset, created_at, updated_at)
       VALUES ('Account', $1, 'account_updated', '__outbox_observer__', $2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')`,
      [account, changeset],
    );
  }
  const run = await runUntilIdle(file, db.relayEnv(), 30_000);
  assert.equal(run.code, 0, run.output.slice(-4000));
  const messages = await consumeAll(topic, 1, { settleMs: 1000 });
  assert.deepEqual(messages.map((m) => m.key), ['Rental:201']);
  const rows = await db.query<{ resource_id: string; published: boolean; error_class: string | null }>(
    `SELECT resource_id, published_at IS NOT NULL AS published, error_class FROM dionysus_outboxes ORDER BY id`,
  );
  assert.deepEqual(rows, [
    { resource_id: '1', published: true, error_class: null },
    { resource_id: '2', published: true, error_class: null },
  ]);
});
