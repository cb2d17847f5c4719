import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { assertAllPublishedCleanly, runRelayUntilIdle, valueText } from '../../helpers/fixtures';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { writeTopicsFile } from '../../helpers/relay-process';

// Partition routing against the gem (contract §2): partition = crc32(partition key) % count, the
// partition key being the row's partition_key when set, otherwise the record's account_id cast
// like the gem does (`value.to_i.to_s`, nil → "0"). The expectation is computed here with a CRC-32
// of this file's own (not the relay's), checked against values computed with python3's zlib.

const PARTITION_COUNT = 12;
const USER_COUNT = 300;

// ---- an independent CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zlib.crc32 ----
const CRC_TABLE: readonly number[] = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function zlibCrc32(text: string): number {
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// ---- the 300 users ----
interface UserFixture {
  id: string;
  /** account_id as SQL text, or null for NULL. */
  accountId: string | null;
  /** The outbox row's partition_key column, or null. */
  rowPartitionKey: string | null;
  /** The key the gem would partition by. */
  partitionKey: string;
}

/**
 * Deterministic variety: small and huge ids, NULL accounts ("0"), negative and beyond-2^53
 * accounts, rows carrying a textual or numeric partition_key that must win over the account.
 */
function buildUsers(): UserFixture[] {
  const users: UserFixture[] = [];
  for (let i = 0; i < USER_COUNT; i++) {
    // ids: 1.., jumps of 7, and every 25th one beyond 2^53.
    const id = i % 25 === 24 ? (9007199254740993n + BigInt(i)).toString() : String(1 + i * 7);
    let accountId: string | null;
    let rowPartitionKey: string | null = null;
    switch (i % 10) {
      case 0: // NULL account, no row key: the gem casts nil to "0"
        accountId = null;
        break;
      case 1: // textual row key wins over the account
        accountId = String(500 + i);
        rowPartitionKey = `tenant-${i}`;
        break;
      case 2: // numeric row key wins over the account
        accountId = String(500 + i);
        rowPartitionKey = String(i * 13);
        break;
      case 3: // beyond 2^53: the digits must stay exact
        accountId = (9007199254740993n + BigInt(i) * 1000n).toString();
        break;
      case 4: // negative account: Integer#to_s keeps the sign
        accountId = String(-i - 1);
        break;
      case 5: // NULL account but a row key: the row key wins
        accountId = null;
        rowPartitionKey = `shard:${i % 7}`;
        break;
      default:
        accountId = String(((i * 37) % 1000) + 1);
    }
    const partitionKey = rowPartitionKey ?? accountId ?? '0';
    users.push({ id, accountId, rowPartitionKey, partitionKey });
  }
  return users;
}

const users = buildUsers();

// The expected partition of users[i], one base-12 digit each ('a' = 10, 'b' = 11), computed with
// python3 over the same fixture (a transcription of buildUsers):
//   ''.join('0123456789ab'[zlib.crc32(partition_key.encode()) % 12] for each user)
const PYTHON_PARTITIONS =
  '577573b15a532506982958657923425115a81b28563052a8095358011b1750887035025180a32465560096459357088993a0' +
  '571008684256b8120398599821b406502870571353a10375165a2156182859b1694a9758193853145b350270465299914253' +
  '520590755a5745039713508176499b514969932452689802635344420b57585531b546551960828b52555381575b11469793';

let db: TestDatabase;
const namespace = uniqueNamespace('part');
const topic = `${namespace}_users`;

before(async () => {
  db = await createTestDatabase('part');
  await db.query(`CREATE TABLE users (id bigint PRIMARY KEY, account_id bigint, name text NOT NULL,
                  created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);
  await createTopic(topic, PARTITION_COUNT);
});

after(async () => {
  await deleteTopics([topic]);
  await db.drop();
});

test('the in-test CRC-32 agrees with python3 zlib.crc32', () => {
  // python3: hex(zlib.crc32(b"123456789")) == '0xcbf43926' (the standard check value)
  assert.equal(zlibCrc32('123456789'), 0xcbf43926);
  // python3: zlib.crc32(b"0") == 4108050209, zlib.crc32(b"tenant-1") % 12 == 7,
  //          zlib.crc32(b"9007199254740996") % 12 == 0, zlib.crc32(b"-5") % 12 == 7,
  //          zlib.crc32("é".encode()) == 235179326
  assert.equal(zlibCrc32('0'), 4108050209);
  assert.equal(zlibCrc32('tenant-1') % 12, 7);
  assert.equal(zlibCrc32('9007199254740996') % 12, 0);
  assert.equal(zlibCrc32('-5') % 12, 7);
  assert.equal(zlibCrc32('é'), 235179326);
  // And over the whole fixture: the in-test CRC and python3 give the same 300 partitions.
  assert.equal(PYTHON_PARTITIONS.length, USER_COUNT);
  assert.equal(users.map((u) => (zlibCrc32(u.partitionKey) % PARTITION_COUNT).toString(12)).join(''), PYTHON_PARTITIONS);
});

test(`${USER_COUNT} users land on crc32(partition key) % ${PARTITION_COUNT}`, async () => {
  await db.query(
    `INSERT INTO users (id, account_id, name, created_at, updated_at)
     SELECT u.id, u.account_id, 'user ' || u.id, '2024-01-01 00:00:00', '2024-01-01 00:00:00'
       FROM unnest($1::bigint[], $2::bigint[]) AS u(id, account_id)`,
    [users.map((u) => u.id), users.map((u) => u.accountId)],
  );
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, partition_key, created_at, updated_at)
     SELECT 'User', r.id, 'user_created', $3, r.partition_key,
            (now() AT TIME ZONE 'UTC') + r.n * interval '1 microsecond', now() AT TIME ZONE 'UTC'
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS r(id, partition_key, n)`,
    [users.map((u) => u.id), users.map((u) => u.rowPartitionKey), topic],
  );

  const topicsFile = writeTopicsFile(`
namespace: ${namespace}
topics:
  users:
    models:
      User:
        sql: SELECT id, account_id, name, created_at, updated_at FROM users WHERE id = ANY($1::bigint[])
`);
  await runRelayUntilIdle(db, topicsFile);

  const messages = await consumeAll(topic, USER_COUNT, { timeoutMs: 60_000, settleMs: 1500 });
  assert.equal(messages.length, USER_COUNT, 'one message per row, no duplicates');

  const byKey = new Map(messages.map((m) => [m.key, m]));
  assert.equal(byKey.size, USER_COUNT, 'distinct keys');
  const wrong: string[] = [];
  const used = new Set<number>();
  for (const user of users) {
    const key = `User:${user.id}`;
    const message = byKey.get(key);
    assert.ok(message !== undefined, `no message for ${key}`);
    const expected = zlibCrc32(user.partitionKey) % PARTITION_COUNT;
    used.add(expected);
    if (message.partition !== expected) {
      wrong.push(`${key} (partition key ${JSON.stringify(user.partitionKey)}): expected ${expected}, got ${message.partition}`);
    }
    const account = user.accountId ?? 'null';
    assert.equal(
      valueText(message),
      `{"message":[{"event":"user_created","model_name":"User","data":[{"id":${user.id},"account_id":${account},` +
        `"name":"user ${user.id}","created_at":"2024-01-01T00:00:00.000Z","updated_at":"2024-01-01T00:00:00.000Z","links":{}}]}]}`,
    );
  }
  assert.deepEqual(wrong, [], `${wrong.length} of ${USER_COUNT} messages on the wrong partition`);
  // The fixture is only meaningful if the keys spread over every partition.
  assert.equal(used.size, PARTITION_COUNT, 'the fixture keys cover every partition');
  await assertAllPublishedCleanly(db, topic, USER_COUNT);
});
