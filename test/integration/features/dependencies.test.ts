import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { runUntilIdle, writeTopicsFile } from '../../helpers/relay-process';

// Aggregates: a Booking published with its BookingsFees and BookingsTaxes (the gem's `with:`).
// A dependency's row republishes its parent(s) as booking_updated with the full record, each
// parent with its own key and partition; a hard-deleted fee still republishes its booking, found
// through the row's changeset.

let db: TestDatabase;
const namespace = uniqueNamespace('deps');
let serial = 0;
const created: string[] = [];

before(async () => {
  db = await createTestDatabase('deps');
  await db.query(`CREATE TABLE bookings (id bigint PRIMARY KEY, account_id bigint NOT NULL, final_price numeric(10,2) NOT NULL)`);
  await db.query(`CREATE TABLE bookings_fees (id bigint PRIMARY KEY, booking_id bigint NOT NULL, amount numeric(10,2) NOT NULL)`);
  await db.query(`CREATE TABLE bookings_taxes (id bigint PRIMARY KEY, name text NOT NULL)`);
  await db.query(`CREATE TABLE booking_tax_links (booking_id bigint NOT NULL, tax_id bigint NOT NULL)`);
  await db.query(`INSERT INTO bookings VALUES (1, 10, 100), (2, 20, 200)`);
  await db.query(`INSERT INTO bookings_fees VALUES (11, 1, 5), (12, 1, 7), (21, 2, 9)`);
  await db.query(`INSERT INTO bookings_taxes VALUES (31, 'city tax')`);
  await db.query(`INSERT INTO booking_tax_links VALUES (1, 31), (2, 31)`);
});

after(async () => {
  await deleteTopics(created);
  await db.drop();
});

/** A fresh topic per test, so each reads back only its own messages. */
async function setup(): Promise<{ topic: string; file: string }> {
  serial += 1;
  const key = `bookings${serial}`;
  const topic = `${namespace}_${key}`;
  await createTopic(topic, 6);
  created.push(topic);
  const file = writeTopicsFile(`
namespace: ${namespace}
topics:
  ${key}:
    partition_key: account_id
    models:
      Booking:
        sql: SELECT id, account_id, final_price FROM bookings WHERE id = ANY($1::bigint[])
        relationships:
          bookings_fees:
            has_many: BookingsFee
            sql: SELECT booking_id AS owner_id, id FROM bookings_fees WHERE booking_id = ANY($1::bigint[]) ORDER BY id
            sideload: true
          bookings_taxes:
            has_many: BookingsTax
            sql: |
              SELECT l.booking_id AS owner_id, l.tax_id AS id FROM booking_tax_links l
               WHERE l.booking_id = ANY($1::bigint[]) ORDER BY l.tax_id
            sideload: true
        dependencies:
          BookingsFee:
            parents_sql: SELECT id AS dependency_id, booking_id AS parent_id FROM bookings_fees WHERE id = ANY($1::bigint[])
            parent_from_changeset: booking_id
          BookingsTax:
            parents_sql: SELECT tax_id AS dependency_id, booking_id AS parent_id FROM booking_tax_links WHERE tax_id = ANY($1::bigint[])
serializers:
  BookingsFee:
    sql: SELECT id, amount FROM bookings_fees WHERE id = ANY($1::bigint[])
  BookingsTax:
    sql: SELECT id, name FROM bookings_taxes WHERE id = ANY($1::bigint[])
`);
  return { topic, file };
}

async function outboxRow(topic: string, cls: string, id: number, event: string, changeset: object | null = null): Promise<void> {
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, changeset, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')`,
    [cls, String(id), event, topic, changeset === null ? null : JSON.stringify(changeset)],
  );
}

test('changing a fee publishes booking_updated with the fee sideloaded', async () => {
  const { topic, file } = await setup();
  await db.query(`UPDATE bookings_fees SET amount = 6.5 WHERE id = 11`);
  await outboxRow(topic, 'BookingsFee', 11, 'bookings_fee_updated');
  const run = await runUntilIdle(file, db.relayEnv());
  assert.equal(run.code, 0, run.output);
  const [message, ...rest] = await consumeAll(topic, 1, { settleMs: 1000 });
  assert.equal(rest.length, 0);
  assert.equal(message?.key, 'Booking:1');
  // python3: zlib.crc32(b"10") % 6 == 3
  assert.equal(message?.partition, 3);
  assert.equal(
    message?.value?.toString(),
    // Each sideloaded record through its own serializer: typed attributes ("6.5", as BigDecimal
    // prints it) and its own links, as the gem sends it.
    '{"message":[{"event":"booking_updated","model_name":"Booking","data":[{"id":1,"account_id":10,"final_price":"100.0",' +
      '"links":{"bookings_fees":[11,12],"bookings_taxes":[31]},' +
      '"bookings_fees":[{"id":11,"amount":"6.5","links":{}},{"id":12,"amount":"7.0","links":{}}],"bookings_taxes":[{"id":31,"name":"city tax","links":{}}]}]}]}',
  );
});

test('deleting a fee still republishes its booking, without the fee (parent from the changeset)', async () => {
  const { topic, file } = await setup();
  await db.query(`DELETE FROM bookings_fees WHERE id = 12`);
  await outboxRow(topic, 'BookingsFee', 12, 'bookings_fee_destroyed', { booking_id: [1, null] });
  const run = await runUntilIdle(file, db.relayEnv());
  assert.equal(run.code, 0, run.output);
  const [message] = await consumeAll(topic, 1);
  assert.equal(message?.key, 'Booking:1');
  assert.match(message?.value?.toString() ?? '', /"event":"booking_updated".*"links":\{"bookings_fees":\[11\],.*"bookings_fees":\[\{"id":11,"amount":"6.5","links":\{\}\}\]/);
  const [row] = await db.query<{ published: boolean }>(`SELECT published_at IS NOT NULL AS published FROM dionysus_outboxes WHERE resource_id = '12'`);
  assert.equal(row?.published, true);
});

test('two bookings sharing a dependency each get their own key and partition', async () => {
  const { topic, file } = await setup();
  await db.query(`UPDATE bookings_taxes SET name = 'tourist tax' WHERE id = 31`);
  await outboxRow(topic, 'BookingsTax', 31, 'bookings_tax_updated');
  const run = await runUntilIdle(file, db.relayEnv());
  assert.equal(run.code, 0, run.output);
  const messages = await consumeAll(topic, 2, { settleMs: 1000 });
  const byKey = new Map(messages.map((m) => [m.key, m]));
  assert.deepEqual([...byKey.keys()].sort(), ['Booking:1', 'Booking:2']);
  // python3: zlib.crc32(b"10") % 6 == 3, zlib.crc32(b"20") % 6 == 0
  assert.equal(byKey.get('Booking:1')?.partition, 3);
  assert.equal(byKey.get('Booking:2')?.partition, 0);
  for (const m of messages) assert.match(m.value?.toString() ?? '', /"bookings_taxes":\[\{"id":31,"name":"tourist tax","links":\{\}\}\]/);
});
