import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { OutboxRetention } from '../../../src/relay/retention';
import { WakeableSleep } from '../../../src/lifecycle/sleep';

const silent = pino({ level: 'silent' });

test('runOnce deletes batch after batch until one comes back short', async () => {
  const sizes = [100, 100, 37];
  const calls: Array<[number, number]> = [];
  const retention = new OutboxRetention(
    { deletePublished: async (olderThanMs, limit) => (calls.push([olderThanMs, limit]), sizes.shift() ?? 0) },
    { olderThanMs: 3_600_000, batchSize: 100, pauseMs: 0 },
    silent,
  );
  const totals: number[] = [];
  assert.equal(await retention.runOnce((n) => totals.push(n)), 237);
  assert.deepEqual(totals, [100, 200, 237]);
  assert.deepEqual(calls, [[3_600_000, 100], [3_600_000, 100], [3_600_000, 100]]);
});

test('stop() ends a schedule between batches, even one sleeping for an hour', async () => {
  let calls = 0;
  const retention = new OutboxRetention({ deletePublished: async () => (calls++, 0) }, { olderThanMs: 1, batchSize: 10, pauseMs: 0 }, silent);
  retention.start(3_600_000);
  await retention.stop();
  assert.equal(calls, 1);
});

test('a closed WakeableSleep never sleeps again', async () => {
  const sleeper = new WakeableSleep();
  const pending = sleeper.sleep(3_600_000);
  sleeper.close();
  await pending;
  await sleeper.sleep(3_600_000);
});
