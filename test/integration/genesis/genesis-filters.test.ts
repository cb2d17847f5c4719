import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { writeTopicsFile } from '../../helpers/relay-process';
import { USERS_SQL, decode, insertUsers, runGenesis, runRows } from './support';

// --visible-only, --from/--to (on a view model, where the filters go into the id query, and on an
// sql model whose id table lacks the columns, where the serialized record decides), and the
// errors for what is not configured.

const COUNT = 500;
let db: TestDatabase;
const namespace = uniqueNamespace('genf');
const visible = `${namespace}_visible`;
const windowed = `${namespace}_windowed`;
const recordSide = `${namespace}_recordside`;
let topicsFile: string;

before(async () => {
  db = await createTestDatabase('genf');
  await insertUsers(db, COUNT);
  await db.query(`CREATE VIEW dionysus_users AS SELECT id, name, account_id, created_at, updated_at, canceled_at FROM users`);
  // An id table without updated_at / canceled_at: only the serialized record can filter.
  await db.query(`CREATE TABLE user_ids AS SELECT id FROM users`);
  await Promise.all([visible, windowed, recordSide].map((t) => createTopic(t, 2)));
  topicsFile = writeTopicsFile(`
namespace: ${namespace}
topics:
  visible:
    models:
      User:
        view: dionysus_users
  windowed:
    models:
      User:
        view: dionysus_users
  recordside:
    models:
      User:
        sql: ${USERS_SQL}
        table: user_ids
  unpaged:
    models:
      User:
        sql: ${USERS_SQL}
`);
});

after(async () => {
  await deleteTopics([visible, windowed, recordSide]);
  await db.drop();
});

// updated_at = 2024-02-01 00:00 + id minutes: 01:00..02:00 is ids 60..120 (61 records), of which
// 60, 70, ..., 120 (7) are soft-deleted.
const WINDOW = ['--from', '2024-02-01T01:00:00Z', '--to', '2024-02-01T02:00:00Z'];
const idsIn = (from: number, to: number, keep: (id: number) => boolean): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i).filter(keep).map((id) => `User:${id}`);

test('--visible-only skips soft-deleted records', async () => {
  const r = runGenesis(db, ['--topics', topicsFile, '--topic', 'visible', '--model', 'User', '--visible-only']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const expected = COUNT - COUNT / 10;
  const messages = decode(await consumeAll(visible, expected, { settleMs: 1_000 }));
  assert.equal(messages.length, expected);
  assert.ok(messages.every((m) => m.event === 'user_updated' && m.record['canceled_at'] === null));
  assert.ok(!messages.some((m) => Number(m.record['id']) % 10 === 0));
});

test('--from/--to on a view: only records updated in the window (bounds inclusive), soft-deleted as _destroyed', async () => {
  const r = runGenesis(db, ['--topics', topicsFile, '--topic', 'windowed', '--model', 'User', ...WINDOW]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /61 record\(s\) from dionysus_users/, 'the window is counted in the id query');
  const messages = decode(await consumeAll(windowed, 61, { settleMs: 1_000 }));
  assert.deepEqual(messages.map((m) => m.key).sort(), idsIn(60, 120, () => true).sort());
  const destroyed = messages.filter((m) => m.event === 'user_destroyed').map((m) => Number(m.record['id']));
  assert.deepEqual(destroyed.sort((a, b) => a - b), [60, 70, 80, 90, 100, 110, 120]);
});

test('--from/--to with --visible-only where only the record can tell: the serialized record decides', async () => {
  const r = runGenesis(db, ['--topics', topicsFile, '--topic', 'recordside', '--model', 'User', ...WINDOW, '--visible-only']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /done: 54 sent, 446 skipped/);
  const messages = decode(await consumeAll(recordSide, 54, { settleMs: 1_000 }));
  assert.deepEqual(messages.map((m) => m.key).sort(), idsIn(60, 120, (id) => id % 10 !== 0).sort());
  const run = (await runRows(db)).at(-1);
  assert.deepEqual([run?.status, run?.sent, run?.skipped], ['done', 54, 446]);
});

test('what is not configured is a usage error (exit 2) naming it; no run is recorded', async () => {
  const before = (await runRows(db)).length;
  const noModel = runGenesis(db, ['--topics', topicsFile, '--topic', 'visible', '--model', 'Account']);
  assert.equal(noModel.code, 2, noModel.stdout + noModel.stderr);
  assert.match(noModel.stderr, new RegExp(`model Account is not configured on topic ${visible} .*\\(models: User\\)`));

  const noTopic = runGenesis(db, ['--topics', topicsFile, '--topic', 'orders', '--model', 'User']);
  assert.equal(noTopic.code, 2, noTopic.stdout + noTopic.stderr);
  assert.match(noTopic.stderr, /topic orders is not configured in .*topics\.yaml/);

  const noTable = runGenesis(db, ['--topics', topicsFile, '--topic', 'unpaged', '--model', 'User']);
  assert.equal(noTable.code, 2, noTable.stdout + noTable.stderr);
  assert.match(noTable.stderr, /topics\.unpaged\.models\.User\.table: genesis pages through the ids of User/);

  const missing = runGenesis(db, ['--topics', topicsFile, '--topic', 'visible']);
  assert.equal(missing.code, 2, missing.stdout + missing.stderr);
  assert.match(missing.stderr, /genesis: missing --model \(or --resume ID to continue a run\)/);

  const unknownRun = runGenesis(db, ['--topics', topicsFile, '--resume', '987654']);
  assert.equal(unknownRun.code, 2, unknownRun.stdout + unknownRun.stderr);
  assert.match(unknownRun.stderr, /there is no genesis run 987654/);

  const badRate = runGenesis(db, ['--topics', topicsFile, '--topic', 'visible', '--model', 'User', '--rate', 'fast']);
  assert.equal(badRate.code, 2, badRate.stdout + badRate.stderr);
  assert.match(badRate.stderr, /--rate: "fast" is not a rate/);
  assert.equal((await runRows(db)).length, before);
});
