import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { baseRelayEnv, cliPath, runUntilIdle, writeTopicsFile } from '../../helpers/relay-process';

// Columns the relay cannot send as Rails would are refused by `check` and at start, naming topic,
// model and column; configurations written for json columns as sideloads get told what to write.

let db: TestDatabase;
const namespace = uniqueNamespace('types');
const topics = [`${namespace}_shifts`, `${namespace}_bookings`];

before(async () => {
  db = await createTestDatabase('types');
  await db.query('CREATE TABLE shifts (id bigint PRIMARY KEY, account_id bigint, slots timetz[], note text)');
  await db.query('CREATE TABLE bookings (id bigint PRIMARY KEY, account_id bigint)');
  await db.query('CREATE TABLE bookings_fees (id bigint PRIMARY KEY, booking_id bigint)');
  for (const t of topics) await createTopic(t, 1);
});

after(async () => {
  await deleteTopics(topics);
  await db.drop();
});

/** `check` of a topics file whose only topic publishes Shift with `serializer` (YAML lines of the model). */
function checkShift(serializer: string): { code: number | null; out: string } {
  const yaml = `namespace: ${namespace}\ntopics:\n  shifts:\n    models:\n      Shift:\n${serializer.replace(/^/gm, '        ')}\n`;
  const r = spawnSync(process.execPath, [cliPath(), 'check', '--topics', writeTopicsFile(yaml)], {
    env: baseRelayEnv(db.relayEnv()),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('check names a column whose type cannot be sent as Rails would, and warns about a partition attribute not returned', () => {
  const r = checkShift('sql: SELECT id, slots, note FROM shifts WHERE id = ANY($1::bigint[])');
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /PROBLEM .*topics\.shifts\.models\.Shift: column slots \(_timetz\) cannot be sent as Rails would send it: an array of timetz/);
  assert.match(r.out, /WARNING .*topics\.shifts\.models\.Shift: the partition attribute account_id is not among the serializer's columns/);
});

test('a hidden partition column passes check without a warning', () => {
  const r = checkShift('sql: SELECT id, note, account_id FROM shifts WHERE id = ANY($1::bigint[])\nhidden_columns: [account_id]');
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /WARNING/);
});

test('run refuses a configuration that relied on json columns as sideloads, and says what to write', async () => {
  const run = await runUntilIdle(
    writeTopicsFile(`
namespace: ${namespace}
topics:
  bookings:
    models:
      Booking:
        sql: |
          SELECT b.id, b.account_id, json_build_object('bookings_fees', '[]'::json) AS links,
                 (SELECT coalesce(json_agg(json_build_object('id', f.id)), '[]') FROM bookings_fees f WHERE f.booking_id = b.id) AS bookings_fees
            FROM bookings b WHERE b.id = ANY($1::bigint[])
        dependencies:
          BookingsFee:
            parents_sql: SELECT id AS dependency_id, booking_id AS parent_id FROM bookings_fees WHERE id = ANY($1::bigint[])
`),
    db.relayEnv(),
  );
  assert.notEqual(run.code, 0, run.output);
  assert.match(run.output, /topics\.bookings\.models\.Booking: the serializer returns a column `links`: links are no longer read from a column/);
  assert.match(run.output, /column bookings_fees \(json\) is named like the dependency BookingsFee: json columns are attributes now.*relationships: \{bookings_fees: \{has_many: BookingsFee/);
});
