import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { startRelay, writeTopicsFile } from '../../helpers/relay-process';
import { USERS_SQL, countByKey, insertUsers, runGenesis, runRows, waitForRun } from './support';

// A genesis stopped halfway resumes where it stopped with --resume: SIGKILL leaves the run
// 'running' (the next session repeats at most the page in flight), SIGTERM finishes the page,
// marks the run 'interrupted' and the resumed run sends the rest exactly once.

const COUNT = 3_000;
const PAGE = 100;
let db: TestDatabase;
const namespace = uniqueNamespace('genres');
const killed = `${namespace}_killed`;
const termed = `${namespace}_termed`;
let topicsFile: string;

before(async () => {
  db = await createTestDatabase('genres');
  await insertUsers(db, COUNT);
  await Promise.all([createTopic(killed, 2), createTopic(termed, 2)]);
  const model = `    models:\n      User:\n        sql: ${USERS_SQL}\n        table: users\n`;
  topicsFile = writeTopicsFile(`namespace: ${namespace}\ntopics:\n  killed:\n${model}  termed:\n${model}`);
});

after(async () => {
  await deleteTopics([killed, termed]);
  await db.drop();
});

/** Starts a slow genesis (1,000 records/s in pages of 100) and waits until it recorded `atLeast`. */
async function startSlowGenesis(topic: string, atLeast: number): Promise<{ relay: ReturnType<typeof startRelay>; runId: string }> {
  const name = `${namespace}_${topic}`;
  const relay = startRelay(
    ['genesis', '--topics', topicsFile, '--topic', topic, '--model', 'User', '--batch-size', String(PAGE), '--rate', '1000/s'],
    db.relayEnv(),
  );
  const run = await waitForRun(db, (r) => r.topic === name && r.sent >= atLeast && r.status === 'running');
  return { relay, runId: run.id };
}

test('SIGKILL halfway: the run stays running; --resume covers every record', async () => {
  const { relay, runId } = await startSlowGenesis('killed', 1_000);
  relay.kill('SIGKILL');
  await relay.exited;
  const [stopped] = (await runRows(db)).filter((r) => r.id === runId);
  assert.equal(stopped?.status, 'running', 'kill -9 leaves the run as it was');
  assert.ok((stopped?.sent ?? 0) < COUNT, `stopped halfway (sent ${stopped?.sent})`);

  const resumed = runGenesis(db, ['--resume', runId, '--topics', topicsFile]);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, new RegExp(`genesis run ${runId} resumed after id ${stopped?.last_id}`));
  const [done] = (await runRows(db)).filter((r) => r.id === runId);
  assert.equal(done?.status, 'done');
  assert.equal(done?.sent, COUNT, 'the progress counts every record once');

  const counts = countByKey(await consumeAll(killed, COUNT, { timeoutMs: 60_000, settleMs: 1_000 }));
  for (let id = 1; id <= COUNT; id++) assert.ok((counts.get(`User:${id}`) ?? 0) >= 1, `User:${id} was sent`);
  // At-least-once: only the page in flight at the kill (not yet recorded) may come twice.
  const repeated = [...counts.values()].filter((n) => n > 1).length;
  assert.ok(repeated <= PAGE, `${repeated} records sent twice`);
});

test('SIGTERM halfway: stops after the page, marks the run interrupted; --resume sends the rest exactly once', async () => {
  const { relay, runId } = await startSlowGenesis('termed', 500);
  relay.kill('SIGTERM');
  const code = await relay.exited;
  assert.equal(code, 143, relay.output());
  assert.match(relay.output(), new RegExp(`continue with: dionysus-relay genesis --resume ${runId}`));
  const [stopped] = (await runRows(db)).filter((r) => r.id === runId);
  assert.equal(stopped?.status, 'interrupted');
  assert.ok((stopped?.sent ?? 0) < COUNT, `stopped halfway (sent ${stopped?.sent})`);

  const resumed = runGenesis(db, ['--resume', runId, '--topics', topicsFile]);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  const counts = countByKey(await consumeAll(termed, COUNT, { timeoutMs: 60_000, settleMs: 1_000 }));
  assert.equal(counts.size, COUNT);
  for (let id = 1; id <= COUNT; id++) assert.equal(counts.get(`User:${id}`), 1, `User:${id} exactly once`);

  const again = runGenesis(db, ['--resume', runId, '--topics', topicsFile]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already done/);
});
