import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import type { RelayProcess } from '../../helpers/relay-process';
import { envelope, produceValues, second, sinkEnv, startSink, terminate, writeSinkFile } from '../../helpers/sink';
import { freePort, sample, scrape, waitFor } from '../observability/support';

// Poison messages never block a partition silently: a message that is not JSON, one that breaks a
// constraint (found by applying the batch again message by message), one of an unmapped model under
// strict mapping: each goes to the dead-letter topic with the error in its headers while the rest
// of its batch, and the partition, go on. With on_poison: stop, the partition stops at it instead.

let db: TestDatabase;
let sink: RelayProcess;
let port: number;
const ns = uniqueNamespace('sinkpoison');
const T = { users: `${ns}_users`, strict: `${ns}_strict`, stopper: `${ns}_stopper`, dead: `${ns}_dead` };
const user = (id: number, name: string): string => envelope('user_updated', 'User', { id, name, updated_at: second(id), links: {} });

before(async () => {
  db = await createTestDatabase('sinkpoison');
  await db.query(`CREATE TABLE users (id bigserial PRIMARY KEY, name text CHECK (name <> 'forbidden'), synced_id bigint NOT NULL UNIQUE,
                  synced_data jsonb, synced_updated_at timestamp(6))`);
  for (const topic of Object.values(T)) await createTopic(topic, 1);
  // One batch: the constraint violation rolls it back, and it is applied again message by message.
  await produceValues(T.users, [
    { key: 'User:1', value: user(1, 'one') },
    { key: 'User:x', value: 'not json' },
    { key: 'User:2', value: user(2, 'two') },
    { key: 'User:3', value: user(3, 'forbidden') },
    { key: 'User:4', value: user(4, 'four') },
  ]);
  port = await freePort();
  const sinkFile = writeSinkFile(`
group_id: ${ns}-poison
namespace: ${ns}
defaults:
  dead_letter_topic: ${T.dead}
topics:
  users: {}
  strict: {strict_mapping: true}
  stopper: {on_poison: stop}
models:
  User: {table: users}
`);
  sink = await startSink(sinkFile, sinkEnv(db.schema, { HTTP_PORT: String(port) }));
});

after(async () => {
  if (sink?.child.exitCode === null) sink.kill('SIGKILL');
  await deleteTopics(Object.values(T));
  await db.drop();
});

/** The dead-letter topic has one partition: offset order is the order they were sent in. */
function inOffsetOrder<T extends { offset: number }>(messages: T[]): T[] {
  return [...messages].sort((a, b) => a.offset - b.offset);
}

async function names(): Promise<string[]> {
  return (await db.query<{ name: string }>('SELECT name FROM users ORDER BY synced_id')).map((r) => r.name);
}

async function namesWhen(ready: (n: string[]) => boolean, what: string): Promise<string[]> {
  let last: string[] = [];
  return waitFor(what, async () => {
    last = await names();
    return ready(last) ? last : undefined;
  }, { relay: sink, describe: () => `${last.join(',')}\n${sink.output().slice(-3000)}` });
}

test('poison messages go to the dead-letter topic with the error in headers; the rest of the batch applies', async () => {
  assert.deepEqual(await namesWhen((n) => n.includes('four'), 'the good messages'), ['one', 'two', 'four']);
  const letters = inOffsetOrder(await consumeAll(T.dead, 2));
  assert.deepEqual(
    letters.map((l) => [l.key, l.headers['dionysus-error-class'], l.headers['dionysus-original-topic'], l.headers['dionysus-original-offset']]),
    [
      ['User:x', 'SINK_MESSAGE_INVALID', T.users, '1'],
      ['User:3', 'SINK_APPLY_FAILED', T.users, '3'],
    ],
  );
  assert.equal(letters[0]?.value?.toString(), 'not json', 'the value is sent unchanged');
  assert.match(letters[1]?.headers['dionysus-error-message'] ?? '', /SQLSTATE 23514: .*users_name_check/);
  assert.equal(letters[1]?.headers['dionysus-consumer-group'], `${ns}-poison`);
  const metrics = await scrape(port);
  assert.equal(sample(metrics, 'dionysus_relay_sink_messages_dead_lettered_total', { topic: T.users, error_class: 'SINK_MESSAGE_INVALID' }), 1);
  assert.equal(sample(metrics, 'dionysus_relay_sink_messages_dead_lettered_total', { topic: T.users, error_class: 'SINK_APPLY_FAILED' }), 1);

  await produceValues(T.users, [{ key: 'User:5', value: user(5, 'five') }]);
  await namesWhen((n) => n.includes('five'), 'the partition going on');
});

test('strict mapping: an event of an unmapped model is a poison message', async () => {
  await produceValues(T.strict, [
    { key: 'Rental:1', value: envelope('rental_created', 'Rental', { id: 1, links: {} }) },
    { key: 'User:6', value: user(6, 'six') },
  ]);
  await namesWhen((n) => n.includes('six'), 'user six');
  const letters = await consumeAll(T.dead, 3);
  const strict = letters.find((l) => l.headers['dionysus-original-topic'] === T.strict);
  assert.equal(strict?.headers['dionysus-error-class'], 'SINK_MODEL_UNMAPPED');
  assert.match(strict?.headers['dionysus-error-message'] ?? '', /model "Rental"/);
});

test('on_poison: stop applies what comes before the poison message, then stops its partition', async () => {
  await produceValues(T.stopper, [
    { key: 'User:7', value: user(7, 'seven') },
    { key: 'User:x', value: '{"message":"not a list"}' },
    { key: 'User:8', value: user(8, 'eight') },
  ]);
  await namesWhen((n) => n.includes('seven'), 'user seven');
  const metrics = await waitFor('the stopped partition', async () => {
    const m = await scrape(port);
    return sample(m, 'dionysus_relay_sink_partition_stopped', { topic: T.stopper, partition: '0' }) === 1 ? m : undefined;
  });
  assert.ok(metrics);
  assert.match(sink.output(), /partition stopped \(on_poison: stop\)/);
  assert.ok(!(await names()).includes('eight'), 'nothing after the poison message is applied');
  assert.equal(await terminate(sink), 0, sink.output());
});
