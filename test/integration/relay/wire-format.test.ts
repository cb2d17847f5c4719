import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { assertAllPublishedCleanly, messagesWithKey, runRelayUntilIdle, valueText } from '../../helpers/fixtures';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { writeTopicsFile } from '../../helpers/relay-process';

// Byte-exact wire format (contract §2), end to end: rows are inserted the way the gem writes them,
// the real CLI runs until idle, and the messages are read back from Kafka. Every expected value is
// written out by hand from the contract (Rails' JSON encoding of the gem's serializers); partition
// expectations were computed with python3 `zlib.crc32(key.encode()) % n` and are hard-coded.
//
// One schema and one topics file for the whole file; every test has topics of its own, so each
// test reads back exactly the messages it caused.

let db: TestDatabase;
let topicsFile: string;
const namespace = uniqueNamespace('wf');

/** Topic key in the YAML → partition count. */
const PARTITIONS = {
  user_events: 6,
  user_missing: 6,
  samples: 4,
  prices: 1,
  floats: 1,
  devices: 5,
  bookings: 8,
  admin_users: 3,
  overrides: 10,
} as const;
type TopicKey = keyof typeof PARTITIONS;
const topicName = (key: TopicKey): string => `${namespace}_${key}`;

const USER_SQL = 'SELECT id, account_id, name, created_at, updated_at FROM users WHERE id = ANY($1::bigint[])';

before(async () => {
  db = await createTestDatabase('wf');
  await db.query(`CREATE TABLE users (id bigint PRIMARY KEY, account_id bigint, name text NOT NULL,
                  created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);
  await db.query('CREATE VIEW dionysus_users AS SELECT id, account_id, name, created_at, updated_at FROM users');
  await db.query(`CREATE TABLE samples (
                    id bigint PRIMARY KEY,
                    title text, separators text, unicode text, escapes text, note text,
                    active boolean, archived boolean, quantity integer,
                    weight double precision, ratio double precision, score double precision,
                    born_on date, seen_at timestamp(6), seen_tz timestamptz,
                    created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);
  await db.query(`CREATE TABLE prices (id bigint PRIMARY KEY, amount numeric(10,2), rate numeric,
                  created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);
  await db.query(`CREATE TABLE measurements (id bigint PRIMARY KEY, reading double precision,
                  created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);
  await db.query(`CREATE TABLE devices (id uuid PRIMARY KEY, account_id bigint, name text NOT NULL,
                  created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);
  await db.query(`CREATE TABLE bookings (id bigint PRIMARY KEY, account_id bigint NOT NULL, final_price numeric(10,2) NOT NULL,
                  created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);
  await db.query(`CREATE TABLE bookings_fees (id bigint PRIMARY KEY, booking_id bigint NOT NULL REFERENCES bookings, name text NOT NULL,
                  created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);

  for (const [key, partitions] of Object.entries(PARTITIONS)) {
    await createTopic(topicName(key as TopicKey), partitions);
  }

  // Bookings: attributes, then links (to-one account from the account_id column, to-many fees from
  // a query), then the sideloaded fees, each serialized by BookingsFee's own serializer (attributes
  // + links), as the gem's sideloading does.
  topicsFile = writeTopicsFile(`
namespace: ${namespace}
topics:
  user_events:
    models:
      User:
        sql: ${USER_SQL}
  user_missing:
    models:
      User:
        sql: ${USER_SQL}
  samples:
    partition_key: id
    models:
      Sample:
        sql: >-
          SELECT id, title, separators, unicode, escapes, note, active, archived, quantity,
                 weight, ratio, score, born_on, seen_at, seen_tz, created_at, updated_at
            FROM samples WHERE id = ANY($1::bigint[])
  prices:
    partition_key: id
    models:
      Price:
        sql: SELECT id, amount, rate, created_at, updated_at FROM prices WHERE id = ANY($1::bigint[])
  floats:
    partition_key: id
    models:
      Measurement:
        sql: SELECT id, reading, created_at, updated_at FROM measurements WHERE id = ANY($1::bigint[])
  devices:
    models:
      Device:
        sql: SELECT id, account_id, name, created_at, updated_at FROM devices WHERE id = ANY($1::uuid[])
  bookings:
    models:
      Booking:
        sql: SELECT id, account_id, final_price, created_at, updated_at FROM bookings WHERE id = ANY($1::bigint[])
        relationships:
          account: { has_one: Account }
          fees:
            has_many: BookingsFee
            sql: SELECT booking_id AS owner_id, id FROM bookings_fees WHERE booking_id = ANY($1::bigint[]) ORDER BY id
            sideload: true
  admin_users:
    models:
      Admin::User:
        view: dionysus_users
  overrides:
    models:
      User:
        sql: ${USER_SQL}
serializers:
  BookingsFee:
    sql: SELECT id, booking_id, name, created_at, updated_at FROM bookings_fees WHERE id = ANY($1::bigint[])
`);
});

after(async () => {
  await deleteTopics(Object.keys(PARTITIONS).map((key) => topicName(key as TopicKey)));
  await db.drop();
});

test('created / updated / destroyed of an existing record each carry the current record, in row order', async () => {
  const topic = topicName('user_events');
  await db.query(`INSERT INTO users (id, account_id, name, created_at, updated_at)
                  VALUES (101, 17, 'Ariadne', '2024-01-01 10:00:00', '2024-01-01 10:00:00')`);
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 101, event: 'user_created', topic, partitionKey: '17' });
  await db.query(`UPDATE users SET name = 'Ariadne of Crete', updated_at = '2024-01-02 11:30:00.5' WHERE id = 101`);
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 101, event: 'user_updated', topic, partitionKey: '17' });
  // A destroyed row whose record still exists (e.g. published before the hard delete ran).
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 101, event: 'user_destroyed', topic, partitionKey: '17' });

  await runRelayUntilIdle(db, topicsFile);

  const messages = await consumeAll(topic, 3);
  assert.equal(messages.length, 3);
  const record =
    '{"id":101,"account_id":17,"name":"Ariadne of Crete",' +
    '"created_at":"2024-01-01T10:00:00.000Z","updated_at":"2024-01-02T11:30:00.500Z","links":{}}';
  const ordered = messagesWithKey(messages, 'User:101');
  assert.deepEqual(
    ordered.map((m) => valueText(m)),
    ['user_created', 'user_updated', 'user_destroyed'].map(
      (event) => `{"message":[{"event":"${event}","model_name":"User","data":[${record}]}]}`,
    ),
  );
  for (const m of ordered) {
    // python3: zlib.crc32(b"17") % 6 == 2   (the key "User:101" would give 4)
    assert.equal(m.partition, 2, 'partition of account 17');
  }
  await assertAllPublishedCleanly(db, topic, 3);
});

test('missing resource: created/updated send nothing and are marked published; destroyed sends {"links":{},"id":<number>}', async () => {
  const topic = topicName('user_missing');
  // None of these ids exist in users. The gem writes partition_key when it inserts the row.
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 999, event: 'user_updated', topic, partitionKey: '17' });
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 999, event: 'user_created', topic, partitionKey: '17' });
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 998, event: 'user_destroyed', topic, partitionKey: '17' });
  // Beyond 2^53: the id must stay exact as a JSON number.
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: '9007199254740993', event: 'user_destroyed', topic, partitionKey: '17' });

  await runRelayUntilIdle(db, topicsFile);

  const messages = await consumeAll(topic, 2, { settleMs: 1500 });
  assert.deepEqual(
    messages.map((m) => m.key).sort(),
    ['User:9007199254740993', 'User:998'],
    'only the destroyed rows produce messages',
  );
  assert.equal(
    valueText(messagesWithKey(messages, 'User:998')[0]),
    '{"message":[{"event":"user_destroyed","model_name":"User","data":[{"links":{},"id":998}]}]}',
  );
  assert.equal(
    valueText(messagesWithKey(messages, 'User:9007199254740993')[0]),
    '{"message":[{"event":"user_destroyed","model_name":"User","data":[{"links":{},"id":9007199254740993}]}]}',
  );
  for (const m of messages) {
    // python3: zlib.crc32(b"17") % 6 == 2
    assert.equal(m.partition, 2, `partition of ${String(m.key)}`);
  }
  await assertAllPublishedCleanly(db, topic, 4);
});

test('encodings: times truncated to ms + Z, dates, NaN/Infinity → null, Rails escapes, literal UTF-8, NULL, booleans', async () => {
  const topic = topicName('samples');
  await db.query(
    `INSERT INTO samples (id, title, separators, unicode, escapes, note, active, archived, quantity,
                          weight, ratio, score, born_on, seen_at, seen_tz, created_at, updated_at)
     VALUES (1, $1, $2, $3, $4, NULL, true, false, 42,
             1.5, 'NaN', 'Infinity', '2024-02-29', '2024-03-04 05:06:07.123999', '2024-03-04 07:06:07.5+02',
             '2024-01-01 00:00:00', '2024-06-30 23:59:59.999999')`,
    [
      '<script>&</script> a > b',
      'line\u2028para\u2029end',
      'café 日本 🎉',
      'say "hi"\n\ttab\\ \u0001',
    ],
  );
  await db.query(`INSERT INTO samples (id, created_at, updated_at) VALUES (2, '2024-01-01 00:00:00', '2024-01-01 00:00:00')`);
  await insertOutboxRow(db, { resourceClass: 'Sample', resourceId: 1, event: 'sample_updated', topic, partitionKey: '1' });
  await insertOutboxRow(db, { resourceClass: 'Sample', resourceId: 2, event: 'sample_created', topic });

  await runRelayUntilIdle(db, topicsFile);

  const messages = await consumeAll(topic, 2);
  assert.equal(messages.length, 2);
  const [one] = messagesWithKey(messages, 'Sample:1');
  const [two] = messagesWithKey(messages, 'Sample:2');
  // Written as raw text: every backslash below is a byte of the expected message.
  assert.equal(
    valueText(one),
    String.raw`{"message":[{"event":"sample_updated","model_name":"Sample","data":[{"id":1,` +
      String.raw`"title":"\u003cscript\u003e\u0026\u003c/script\u003e a \u003e b",` +
      String.raw`"separators":"line\u2028para\u2029end",` +
      '"unicode":"café 日本 🎉",' +
      String.raw`"escapes":"say \"hi\"\n\ttab\\ \u0001",` +
      '"note":null,"active":true,"archived":false,"quantity":42,' +
      '"weight":1.5,"ratio":null,"score":null,' +
      '"born_on":"2024-02-29","seen_at":"2024-03-04T05:06:07.123Z","seen_tz":"2024-03-04T05:06:07.500Z",' +
      '"created_at":"2024-01-01T00:00:00.000Z","updated_at":"2024-06-30T23:59:59.999Z","links":{}}]}]}',
  );
  // Non-ASCII is literal UTF-8 on the wire, not \u-escaped: é is C3 A9, 日 E6 97 A5, 🎉 F0 9F 8E 89.
  assert.ok(one?.value?.includes(Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9, 0x20, 0xe6, 0x97, 0xa5])), 'café 日 as UTF-8 bytes');
  assert.ok(one?.value?.includes(Buffer.from([0xf0, 0x9f, 0x8e, 0x89])), '🎉 as UTF-8 bytes');
  assert.equal(
    valueText(two),
    '{"message":[{"event":"sample_created","model_name":"Sample","data":[{"id":2,' +
      '"title":null,"separators":null,"unicode":null,"escapes":null,"note":null,"active":null,"archived":null,"quantity":null,' +
      '"weight":null,"ratio":null,"score":null,"born_on":null,"seen_at":null,"seen_tz":null,' +
      '"created_at":"2024-01-01T00:00:00.000Z","updated_at":"2024-01-01T00:00:00.000Z","links":{}}]}]}',
  );
  // Topic partition_key: id. python3: zlib.crc32(b"1") % 4 == 3, zlib.crc32(b"2") % 4 == 1
  assert.equal(one?.partition, 3);
  assert.equal(two?.partition, 1);
  await assertAllPublishedCleanly(db, topic, 2);
});

test('numeric columns are JSON strings in BigDecimal#to_s form ("12.5", "100.0"), non-finite numeric → null', async () => {
  // Contract §2: "Postgres numeric as a JSON string ("12.5")". Rails encodes a BigDecimal with
  // ActiveSupport's BigDecimal#to_s ("F" format): no trailing zeros of the column's scale, but at
  // least one fractional digit (12.50 → "12.5", 100.00 → "100.0", 3 → "3.0"), and a non-finite
  // BigDecimal (NaN) → null.
  const topic = topicName('prices');
  await db.query(`INSERT INTO prices (id, amount, rate, created_at, updated_at) VALUES
                    (1, 12.50, 12.5, '2024-01-01 00:00:00', '2024-01-01 00:00:00'),
                    (2, 100.00, 3, '2024-01-01 00:00:00', '2024-01-01 00:00:00'),
                    (3, 99.99, 'NaN', '2024-01-01 00:00:00', '2024-01-01 00:00:00')`);
  for (const id of [1, 2, 3]) {
    await insertOutboxRow(db, { resourceClass: 'Price', resourceId: id, event: 'price_updated', topic });
  }

  await runRelayUntilIdle(db, topicsFile);

  const messages = await consumeAll(topic, 3);
  const envelope = (attributes: string): string =>
    `{"message":[{"event":"price_updated","model_name":"Price","data":[{${attributes},` +
    '"created_at":"2024-01-01T00:00:00.000Z","updated_at":"2024-01-01T00:00:00.000Z","links":{}}]}]}';
  // All three compared at once, so a failure shows every difference.
  assert.deepEqual(
    ['Price:1', 'Price:2', 'Price:3'].map((key) => valueText(messagesWithKey(messages, key)[0])),
    [
      envelope('"id":1,"amount":"12.5","rate":"12.5"'),
      envelope('"id":2,"amount":"100.0","rate":"3.0"'),
      envelope('"id":3,"amount":"99.99","rate":null'),
    ],
  );
  await assertAllPublishedCleanly(db, topic, 3);
});

test('float columns print as Ruby floats: an integral float8 is 2.0, not 2', async () => {
  // Rails leaves a finite Float to the json gem, which prints Float#to_s: 2.0 → "2.0".
  const topic = topicName('floats');
  await db.query(`INSERT INTO measurements (id, reading, created_at, updated_at) VALUES
                    (1, 2, '2024-01-01 00:00:00', '2024-01-01 00:00:00'),
                    (2, 0.25, '2024-01-01 00:00:00', '2024-01-01 00:00:00')`);
  await insertOutboxRow(db, { resourceClass: 'Measurement', resourceId: 1, event: 'measurement_updated', topic });
  await insertOutboxRow(db, { resourceClass: 'Measurement', resourceId: 2, event: 'measurement_updated', topic });

  await runRelayUntilIdle(db, topicsFile);

  const messages = await consumeAll(topic, 2);
  const envelope = (attributes: string): string =>
    `{"message":[{"event":"measurement_updated","model_name":"Measurement","data":[{${attributes},` +
    '"created_at":"2024-01-01T00:00:00.000Z","updated_at":"2024-01-01T00:00:00.000Z","links":{}}]}]}';
  assert.deepEqual(
    ['Measurement:1', 'Measurement:2'].map((key) => valueText(messagesWithKey(messages, key)[0])),
    [envelope('"id":1,"reading":2.0'), envelope('"id":2,"reading":0.25')],
  );
  await assertAllPublishedCleanly(db, topic, 2);
});

test('UUID primary keys: key Device:<uuid>, "id" as a string, a destroyed missing UUID → string id', async () => {
  const topic = topicName('devices');
  const uuid = '0b6f3c1e-9a4d-4c2e-8f71-2d5e6a7b8c90';
  const gone = 'f47ac10b-58cc-4372-a567-0e02b2c3d479';
  await db.query(
    `INSERT INTO devices (id, account_id, name, created_at, updated_at)
     VALUES ($1, 9, 'Thyrsus', '2024-02-01 12:00:00.000001', '2024-02-03 12:00:00.999')`,
    [uuid],
  );
  await insertOutboxRow(db, { resourceClass: 'Device', resourceId: uuid, event: 'device_updated', topic, partitionKey: '9' });
  await insertOutboxRow(db, { resourceClass: 'Device', resourceId: gone, event: 'device_destroyed', topic, partitionKey: '9' });

  await runRelayUntilIdle(db, topicsFile);

  const messages = await consumeAll(topic, 2);
  assert.equal(messages.length, 2);
  const [updated] = messagesWithKey(messages, `Device:${uuid}`);
  const [destroyed] = messagesWithKey(messages, `Device:${gone}`);
  assert.equal(
    valueText(updated),
    '{"message":[{"event":"device_updated","model_name":"Device","data":[{' +
      '"id":"0b6f3c1e-9a4d-4c2e-8f71-2d5e6a7b8c90","account_id":9,"name":"Thyrsus",' +
      '"created_at":"2024-02-01T12:00:00.000Z","updated_at":"2024-02-03T12:00:00.999Z","links":{}}]}]}',
  );
  assert.equal(
    valueText(destroyed),
    '{"message":[{"event":"device_destroyed","model_name":"Device","data":[{"links":{},"id":"f47ac10b-58cc-4372-a567-0e02b2c3d479"}]}]}',
  );
  // python3: zlib.crc32(b"9") % 5 == 4
  assert.equal(updated?.partition, 4);
  assert.equal(destroyed?.partition, 4);
  await assertAllPublishedCleanly(db, topic, 2);
});

test('links and a sideloaded to-many relationship: attributes, then links, then fees; nested times in Rails form', async () => {
  const topic = topicName('bookings');
  await db.query(`INSERT INTO bookings (id, account_id, final_price, created_at, updated_at) VALUES
                    (501, 77, 99.99, '2024-04-01 09:00:00', '2024-04-02 09:15:00.25'),
                    (502, 1234, 10.25, '2024-04-03 18:00:00.000999', '2024-04-03 18:00:00.000999')`);
  await db.query(`INSERT INTO bookings_fees (id, booking_id, name, created_at, updated_at) VALUES
                    (7002, 501, 'Linen & towels', '2024-04-01 09:05:00.5', '2024-04-01 09:05:00.5'),
                    (7001, 501, 'Cleaning', '2024-04-01 09:00:00', '2024-04-01 09:00:00.123456')`);
  // No partition_key on the rows: the topic's default attribute account_id decides.
  await insertOutboxRow(db, { resourceClass: 'Booking', resourceId: 501, event: 'booking_created', topic });
  await insertOutboxRow(db, { resourceClass: 'Booking', resourceId: 502, event: 'booking_updated', topic });

  await runRelayUntilIdle(db, topicsFile);

  const messages = await consumeAll(topic, 2);
  assert.equal(messages.length, 2);
  const [withFees] = messagesWithKey(messages, 'Booking:501');
  const [withoutFees] = messagesWithKey(messages, 'Booking:502');
  assert.equal(
    valueText(withFees),
    '{"message":[{"event":"booking_created","model_name":"Booking","data":[{' +
      '"id":501,"account_id":77,"final_price":"99.99",' +
      '"created_at":"2024-04-01T09:00:00.000Z","updated_at":"2024-04-02T09:15:00.250Z",' +
      '"links":{"account":77,"fees":[7001,7002]},' +
      '"fees":[' +
      '{"id":7001,"booking_id":501,"name":"Cleaning","created_at":"2024-04-01T09:00:00.000Z","updated_at":"2024-04-01T09:00:00.123Z","links":{}},' +
      String.raw`{"id":7002,"booking_id":501,"name":"Linen \u0026 towels","created_at":"2024-04-01T09:05:00.500Z","updated_at":"2024-04-01T09:05:00.500Z","links":{}}` +
      ']}]}]}',
  );
  assert.equal(
    valueText(withoutFees),
    '{"message":[{"event":"booking_updated","model_name":"Booking","data":[{' +
      '"id":502,"account_id":1234,"final_price":"10.25",' +
      '"created_at":"2024-04-03T18:00:00.000Z","updated_at":"2024-04-03T18:00:00.000Z",' +
      '"links":{"account":1234,"fees":[]},"fees":[]}]}]}',
  );
  // python3: zlib.crc32(b"77") % 8 == 4, zlib.crc32(b"1234") % 8 == 3
  assert.equal(withFees?.partition, 4);
  assert.equal(withoutFees?.partition, 3);
  await assertAllPublishedCleanly(db, topic, 2);
});

test('view serializer with a bigint id: record from the view, key Admin::User:<id>, destroyed missing id as a number', async () => {
  const topic = topicName('admin_users');
  await db.query(`INSERT INTO users (id, account_id, name, created_at, updated_at)
                  VALUES (201, 8, 'Semele', '2024-05-05 05:05:05.555555', '2024-05-06 06:06:06')`);
  await insertOutboxRow(db, { resourceClass: 'Admin::User', resourceId: 201, event: 'admin_user_updated', topic });
  await insertOutboxRow(db, { resourceClass: 'Admin::User', resourceId: 202, event: 'admin_user_destroyed', topic, partitionKey: '8' });

  await runRelayUntilIdle(db, topicsFile);

  const messages = await consumeAll(topic, 2);
  assert.equal(messages.length, 2);
  const [updated] = messagesWithKey(messages, 'Admin::User:201');
  const [destroyed] = messagesWithKey(messages, 'Admin::User:202');
  assert.equal(
    valueText(updated),
    '{"message":[{"event":"admin_user_updated","model_name":"Admin::User","data":[{' +
      '"id":201,"account_id":8,"name":"Semele","created_at":"2024-05-05T05:05:05.555Z","updated_at":"2024-05-06T06:06:06.000Z","links":{}}]}]}',
  );
  assert.equal(
    valueText(destroyed),
    '{"message":[{"event":"admin_user_destroyed","model_name":"Admin::User","data":[{"links":{},"id":202}]}]}',
  );
  // python3: zlib.crc32(b"8") % 3 == 2
  assert.equal(updated?.partition, 2);
  assert.equal(destroyed?.partition, 2);
  await assertAllPublishedCleanly(db, topic, 2);
});

test("a row's partition_key column overrides the record's partition attribute", async () => {
  const topic = topicName('overrides');
  await db.query(`INSERT INTO users (id, account_id, name, created_at, updated_at) VALUES
                    (301, 11, 'Pentheus', '2024-01-01 00:00:00', '2024-01-01 00:00:00'),
                    (302, 11, 'Agave', '2024-01-01 00:00:00', '2024-01-01 00:00:00'),
                    (303, 11, 'Cadmus', '2024-01-01 00:00:00', '2024-01-01 00:00:00')`);
  // A configured expression's result is used as a string as is; a numeric one likewise.
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 301, event: 'user_updated', topic, partitionKey: 'tenant-42' });
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 302, event: 'user_updated', topic, partitionKey: '5' });
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 303, event: 'user_updated', topic, partitionKey: null });

  await runRelayUntilIdle(db, topicsFile);

  const messages = await consumeAll(topic, 3);
  assert.equal(messages.length, 3);
  const partitionOf = (key: string): number | undefined => messagesWithKey(messages, key)[0]?.partition;
  // python3: zlib.crc32(b"tenant-42") % 10 == 8
  assert.equal(partitionOf('User:301'), 8, 'row partition_key "tenant-42"');
  // python3: zlib.crc32(b"5") % 10 == 6
  assert.equal(partitionOf('User:302'), 6, 'row partition_key "5"');
  // python3: zlib.crc32(b"11") % 10 == 9   (no row partition_key: account_id 11)
  assert.equal(partitionOf('User:303'), 9, 'account_id 11');
  assert.equal(
    valueText(messagesWithKey(messages, 'User:301')[0]),
    '{"message":[{"event":"user_updated","model_name":"User","data":[{"id":301,"account_id":11,"name":"Pentheus",' +
      '"created_at":"2024-01-01T00:00:00.000Z","updated_at":"2024-01-01T00:00:00.000Z","links":{}}]}]}',
  );
  await assertAllPublishedCleanly(db, topic, 3);
});
