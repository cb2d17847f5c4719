import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { TEST_DATABASE_URL } from '../../helpers/env';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { baseRelayEnv, cliPath, usersTopicsFile } from '../../helpers/relay-process';

// `dionysus-relay tombstone`: a consumer sees a null value with the regular key and partition.

const namespace = uniqueNamespace('tomb');
const topic = `${namespace}_users`;
const unconfigured = `${namespace}_legacy`;
let topicsFile: string;

before(async () => {
  await createTopic(topic, 6);
  await createTopic(unconfigured, 1);
  topicsFile = usersTopicsFile(namespace, 'SELECT id FROM users WHERE id = ANY($1::bigint[])');
});

after(async () => {
  await deleteTopics([topic, unconfigured]);
});

function tombstone(extra: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [cliPath(), 'tombstone', '--topics', topicsFile, '--model', 'User', ...extra], {
    env: baseRelayEnv({ DATABASE_URL: TEST_DATABASE_URL }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

test('a real null value with the regular key and partition, and the legacy "null" string on request', async () => {
  const real = tombstone(['--topic', 'users', '--id', '42', '--partition-key', '7']);
  assert.equal(real.code, 0, real.out);
  const legacy = tombstone(['--topic', topic, '--id', '43', '--legacy-null']);
  assert.equal(legacy.code, 0, legacy.out);

  const messages = await consumeAll(topic, 2);
  const byKey = new Map(messages.map((m) => [m.key, m]));
  const first = byKey.get('User:42');
  assert.equal(first?.value, null, 'a real Kafka null');
  // python3: zlib.crc32(b"7") % 6 == 0
  assert.equal(first?.partition, 0);
  const second = byKey.get('User:43');
  assert.equal(second?.value?.toString('utf8'), 'null');
  // No partition key: the message key is hashed. python3: zlib.crc32(b"User:43") % 6 == 4
  assert.equal(second?.partition, 4);
});

test('missing flags are a usage error', () => {
  const r = tombstone(['--topic', 'users']);
  assert.equal(r.code, 2);
  assert.match(r.out, /tombstone: missing --id/);
});

test('a topic that is not in the topics YAML needs --force', async () => {
  const refused = tombstone(['--topic', unconfigured, '--id', '5']);
  assert.equal(refused.code, 2, refused.out);
  assert.match(refused.out, new RegExp(`tombstone --topic ${unconfigured}: not in .*topics\\.yaml \\(topics: ${topic}\\); check the name, or add --force`));
  const forced = tombstone(['--topic', unconfigured, '--id', '5', '--force']);
  assert.equal(forced.code, 0, forced.out);
  assert.match(forced.out, /sending to it as a plain topic \(--force\)/);
  const [message] = await consumeAll(unconfigured, 1);
  assert.equal(message?.key, 'User:5');
  assert.equal(message?.value, null);
});
