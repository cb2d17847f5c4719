import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { baseRelayEnv, cliPath } from '../../helpers/relay-process';
import { sinkEnv, writeSinkFile } from '../../helpers/sink';

// `dionysus-relay check --sink FILE`: a good setup passes; each problem of the tables (missing
// table or column, no unique index on synced_id, no inbox table) and of Kafka (missing topic) is
// reported on its own line; a malformed sink file stops with the file, line and key. The sink
// itself refuses to start on the same problems.

let db: TestDatabase;
const ns = uniqueNamespace('sinkcheck');
const T = { users: `${ns}_users`, dead: `${ns}_dead` };

before(async () => {
  db = await createTestDatabase('sinkcheck');
  await db.query(`CREATE TABLE users (id bigserial PRIMARY KEY, name text, synced_id bigint NOT NULL UNIQUE, synced_data jsonb, synced_updated_at timestamp(6))`);
  await db.query(`CREATE TABLE loose (id bigserial PRIMARY KEY, synced_id bigint, synced_created_at text)`);
  await createTopic(T.users, 2);
  await createTopic(T.dead, 1);
});

after(async () => {
  await deleteTopics(Object.values(T));
  await db.drop();
});

function cli(args: string[], yaml: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [cliPath(), ...args, '--sink', writeSinkFile(yaml)], {
    env: baseRelayEnv(sinkEnv(db.schema)),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

const GOOD = `
group_id: ${ns}
namespace: ${ns}
defaults: {dead_letter_topic: ${T.dead}}
topics:
  users: {}
models:
  User: {table: users}
`;

test('a good setup passes, with what the tables lack as notes', () => {
  const r = cli(['check'], GOOD);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /postgres: users has 5 column\(s\)/);
  assert.match(r.out, /note: users: no synced_canceled_at column: \*_destroyed deletes its rows/);
  assert.match(r.out, new RegExp(`kafka: topic ${T.users} has 2 partition\\(s\\)`));
  assert.match(r.out, new RegExp(`kafka: dead-letter topic ${T.dead} has 1 partition\\(s\\)`));
  assert.match(r.out, /check passed/);
});

test('every problem is named on its own line', () => {
  const r = cli(
    ['check'],
    `
group_id: ${ns}
namespace: ${ns}
defaults: {dead_letter_topic: ${T.dead}}
topics:
  users: {}
  missing: {}
models:
  User:
    table: users
    rename: {email: email_address}
    relationships:
      posts: {foreign_key: synced_user_id, prune: delete}
  posts: {table: users}
  Loose: {table: loose}
  Ghost: {table: ghosts}
inbox:
  table: dionysus_sink_inbox
`,
  );
  assert.equal(r.code, 1, r.out);
  const problems = r.out.split('\n').filter((l) => l.startsWith('PROBLEM '));
  const expected = [
    /models\.Ghost\.table: table ghosts does not exist/,
    /models\.User\.rename\.email: table users has no column email_address/,
    /models\.User\.relationships\.posts\.foreign_key: table users has no column synced_user_id/,
    /models\.Loose: loose\.synced_id needs a unique index of its own/,
    /models\.Loose: loose\.synced_created_at is text; the ordering guard needs a timestamp column/,
    /inbox\.table: table dionysus_sink_inbox does not exist/,
    new RegExp(`kafka: topic ${ns}_missing does not exist`),
  ];
  for (const pattern of expected) assert.ok(problems.some((p) => pattern.test(p)), `${pattern} not in:\n${r.out}`);
  assert.equal(problems.length, expected.length, r.out);
});

test('a malformed sink file stops check and the sink with the file, line and key (exit 2)', () => {
  for (const args of [['check'], ['sink']]) {
    const r = cli(args, `group_id: x\ntopics:\n  users: {soft_delete: maybe}\nmodels: {User: {table: users}}\n`);
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, /invalid configuration \[SINK_FILE_INVALID\]/);
    assert.match(r.out, /sink\.yaml:3: topics\.users\.soft_delete: must be one of cancel, delete/);
  }
});

test('the sink refuses to start on a table problem, naming it', () => {
  const r = cli(['sink'], `group_id: ${ns}\nnamespace: ${ns}\ntopics: {users: {}}\nmodels: {User: {table: ghosts}}\n`);
  assert.equal(r.code, 2, r.out);
  assert.match(r.out, /models\.User\.table: table ghosts does not exist/);
});
