import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { TEST_DATABASE_URL } from '../../helpers/env';
import { baseRelayEnv, cliPath, writeTopicsFile } from '../../helpers/relay-process';

// Bad configuration stops the start with the file, the key (and line) and the reason, as a plain
// message: never a stack trace, never a secret.

function run(args: string[], env: Record<string, string> = {}): { code: number | null; stderr: string; stdout: string } {
  const result = spawnSync(process.execPath, [cliPath(), ...args], {
    env: baseRelayEnv({ DATABASE_URL: TEST_DATABASE_URL, ...env }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stderr: result.stderr, stdout: result.stdout };
}

const GOOD_MODEL = `      User:
        sql: SELECT id FROM users WHERE id = ANY($1::bigint[])`;

test('malformed YAML: exit 2 naming the file and line', () => {
  const file = writeTopicsFile(`namespace: demo\ntopics:\n  users:\n    models: [unclosed\n`);
  const r = run(['run', '--topics', file]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(file), r.stderr);
  assert.match(r.stderr, /invalid YAML/);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+`));
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('unknown keys: exit 2 naming the file, the key path and the line', () => {
  const file = writeTopicsFile(`namespace: demo\ntopics:\n  users:\n    partiton_key: id\n    models:\n${GOOD_MODEL}\n        serialiser: x\n`);
  const r = run(['run', '--topics', file]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(`${file}:4: topics.users.partiton_key: unknown key`), r.stderr);
  assert.ok(r.stderr.includes(`${file}:8: topics.users.models.User.serialiser: unknown key`), r.stderr);
});

test('a topic without models and a model without sql or view are reported together', () => {
  const file = writeTopicsFile(`namespace: demo\ntopics:\n  users:\n    models: {}\n  orders:\n    models:\n      Order: {}\n`);
  const r = run(['run', '--topics', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /topics\.users\.models: a topic needs at least one model/);
  assert.match(r.stderr, /topics\.orders\.models\.Order: .*exactly one of `sql`/);
});

test('a missing topics file names the path', () => {
  const r = run(['run', '--topics', '/nonexistent/topics.yaml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\/nonexistent\/topics\.yaml: cannot read the topics file/);
});

test('invalid settings name the key; secrets never appear', () => {
  const file = writeTopicsFile(`namespace: demo\ntopics:\n  users:\n    models:\n${GOOD_MODEL}\n`);
  const badBatch = run(['run', '--topics', file], { RELAY_BATCH_SIZE: 'lots' });
  assert.equal(badBatch.code, 2);
  assert.match(badBatch.stderr, /RELAY_BATCH_SIZE \(relay\.batchSize\): "lots" is not a whole number/);

  const badJson = run(['run', '--topics', file], { KAFKA_LIBRDKAFKA: '{not json' });
  assert.equal(badJson.code, 2);
  assert.match(badJson.stderr, /KAFKA_LIBRDKAFKA \(kafka\.librdkafka\): not a JSON object/);

  // A one-shot run does not wait for an unreachable database: exit 1 at once.
  const secret = 's3cr3t-pw-for-test';
  const badDb = run(['run', '--exit-when-idle', '--topics', file], { DATABASE_URL: `postgres://dionysus:${secret}@127.0.0.1:1/nowhere` });
  assert.equal(badDb.code, 1);
  assert.match(badDb.stderr, /cannot start \[POSTGRES_UNAVAILABLE\]/);
  assert.match(badDb.stderr, /cannot connect to PostgreSQL at postgres:\/\/dionysus:\*\*\*@127\.0\.0\.1:1\/nowhere \(DATABASE_URL\)/);
  assert.ok(!badDb.stderr.includes(secret) && !badDb.stdout.includes(secret), 'the password is never printed');
});

test('a database that answers and refuses the password or the database name: run exits 2 at once instead of waiting', () => {
  const file = writeTopicsFile(`namespace: demo\ntopics:\n  users:\n    models:\n${GOOD_MODEL}\n`);
  const secret = 'wr0ng-pw-for-test';
  const wrongPassword = new URL(TEST_DATABASE_URL);
  wrongPassword.password = secret;
  const badPassword = run(['run', '--topics', file], { DATABASE_URL: wrongPassword.toString() });
  assert.equal(badPassword.code, 2, badPassword.stderr);
  assert.match(badPassword.stderr, /refused by a dependency \[POSTGRES_REJECTED\]/);
  assert.match(badPassword.stderr, /password authentication failed/);
  assert.ok(!badPassword.stderr.includes(secret) && !badPassword.stdout.includes(secret), 'the password is never printed');

  const noDatabase = new URL(TEST_DATABASE_URL);
  noDatabase.pathname = '/no_such_database_here';
  const missing = run(['run', '--topics', file], { DATABASE_URL: noDatabase.toString() });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /refused by a dependency \[POSTGRES_REJECTED\]/);
  assert.match(missing.stderr, /database "no_such_database_here" does not exist/);
});

test('--help explains each command and shows no secret defaults', () => {
  const top = run(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /Commands:\n\s+run/);
  const help = run(['run', '--help'], { DATABASE_URL: 'postgres://u:topsecret@db/x' });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--exit-when-idle/);
  assert.match(help.stdout, /DATABASE_URL\s+database\.url = \(secret\)/);
  assert.ok(!help.stdout.includes('topsecret'));
  assert.equal(run(['migrate', '--help']).code, 0);
  const unknown = run(['publish']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "publish"/);
});
