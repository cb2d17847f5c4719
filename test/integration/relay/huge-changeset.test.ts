import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { runUntilIdle, writeTopicsFile } from '../../helpers/relay-process';

// A huge `changeset` (an attribute rewritten wholesale: 40 MB of text) is bad input that must not
// hurt: regular topics never read the column, and observer/dependency topics read only the keys
// (plus the parent_from_changeset values), so the relay neither transfers nor holds it. A changeset
// that is not a JSON object reads as "nothing changed" and does not fail the claim.

let db: TestDatabase;
const namespace = uniqueNamespace('hugecs');
const usersTopic = `${namespace}_users`;
const rentalsTopic = `${namespace}_rentals`;
const HUGE_BYTES = 40 * 1024 * 1024;
let file: string;

before(async () => {
  db = await createTestDatabase('hugecs');
  await db.query(`CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL)`);
  await db.query(`CREATE TABLE accounts (id bigint PRIMARY KEY, notes text NOT NULL)`);
  await db.query(`CREATE TABLE rentals (id bigint PRIMARY KEY, account_id bigint NOT NULL, name text NOT NULL)`);
  await db.query(`INSERT INTO users VALUES (1, 'one'), (2, 'two')`);
  await db.query(`INSERT INTO accounts VALUES (1, 'short')`);
  await db.query(`INSERT INTO rentals VALUES (101, 1, 'Villa'), (102, 1, 'Loft')`);
  await createTopic(usersTopic, 1);
  await createTopic(rentalsTopic, 1);
  file = writeTopicsFile(`
namespace: ${namespace}
topics:
  users:
    models:
      User:
        sql: SELECT id, name FROM users WHERE id = ANY($1::bigint[])
  rentals:
    models:
      Rental:
        sql: SELECT id, account_id, name FROM rentals WHERE id = ANY($1::bigint[])
observers:
  account_notes:
    model: Account
    attributes: [notes]
    topic: rentals
    republish: Rental
    sql: SELECT id FROM rentals WHERE account_id = ANY($1::bigint[])
`);
});

after(async () => {
  await deleteTopics([usersTopic, rentalsTopic]);
  await db.drop();
});

/** An outbox row whose changeset is built by PostgreSQL itself (the 40 MB never pass through the test). */
async function row(resourceClass: string, id: string, topic: string, changesetSql: string): Promise<void> {
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, changeset, created_at, updated_at)
     VALUES ($1, $2, 'updated', $3, ${changesetSql}, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')`,
    [resourceClass, id, topic],
  );
}

test('huge and malformed changesets: every row publishes, the relay stays small', async () => {
  const huge = `jsonb_build_object('notes', jsonb_build_array('short', repeat('x', ${HUGE_BYTES})))`;
  await row('User', '1', usersTopic, huge);
  await row('User', '2', usersTopic, 'NULL');
  // Six of them in one claim: 240 MB if the claim read them whole, beyond the heap given below.
  for (let i = 0; i < 6; i++) await row('Account', '1', '__outbox_observer__', huge);
  await row('Account', '1', '__outbox_observer__', `'["not", "an", "object"]'::jsonb`);

  const run = await runUntilIdle(file, { ...db.relayEnv(), NODE_OPTIONS: '--max-old-space-size=96' });
  assert.equal(run.code, 0, run.output);
  const rows = await db.query<{ topic: string; published: boolean; error_class: string | null }>(
    `SELECT topic, published_at IS NOT NULL AS published, error_class FROM dionysus_outboxes ORDER BY id`,
  );
  assert.deepEqual(
    rows.map((r) => [r.published, r.error_class]),
    rows.map(() => [true, null]),
    JSON.stringify(rows),
  );
  const users = await consumeAll(usersTopic, 2, { settleMs: 500 });
  assert.deepEqual(users.map((m) => m.key).sort(), ['User:1', 'User:2']);
  // The huge observer rows touched `notes`: the rentals republished; the malformed one changed nothing.
  const rentals = await consumeAll(rentalsTopic, 2, { settleMs: 1000 });
  assert.deepEqual([...new Set(rentals.map((m) => m.key))].sort(), ['Rental:101', 'Rental:102']);
});
