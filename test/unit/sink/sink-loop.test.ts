import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { SinkTopicConfig } from '../../../src/config/sink-types';
import { RelayError } from '../../../src/errors';
import { emptyTally } from '../../../src/sink/batch-applier';
import type { ConsumedMessage } from '../../../src/sink/batch-preparation';
import type { BatchResult } from '../../../src/sink/partition-batch';
import type { TopicPartitionOffset } from '../../../src/sink/partition-state';
import { SinkLoop, type LoopConsumer } from '../../../src/sink/sink-loop';
import { fanOutSink } from '../../../src/sink/sink-observer';

const topic: SinkTopicConfig = { key: 'users', name: 'users', softDelete: 'cancel', onPoison: 'dead_letter', deadLetterTopic: 'dead', strictMapping: false, path: 'topics.users' };
const msg = (partition: number, offset: number): ConsumedMessage => ({ topic: 'users', partition, offset, key: null, value: null, timestamp: undefined });

function result(messages: readonly ConsumedMessage[]): BatchResult {
  const last = messages[messages.length - 1] as ConsumedMessage;
  return {
    nextOffset: last.offset + 1,
    stopped: undefined,
    deadLettered: [],
    report: { topic: last.topic, partition: last.partition, messages: messages.length, tally: emptyTally(), duplicates: 0, tombstones: 0, skippedEvents: 0, inboxEvents: 0, applySeconds: 0, ageSeconds: [] },
  };
}

/** A consumer that serves queued rounds of messages, then nothing. */
class FakeConsumer implements LoopConsumer {
  readonly commits: TopicPartitionOffset[] = [];
  readonly syncCommits: TopicPartitionOffset[][] = [];
  constructor(private readonly rounds: ConsumedMessage[][]) {}
  async fetch(): Promise<ConsumedMessage[]> {
    await new Promise((r) => setTimeout(r, 1));
    return this.rounds.shift() ?? [];
  }
  commit(offsets: readonly TopicPartitionOffset[]): void {
    this.commits.push(...offsets);
  }
  commitSync(offsets: readonly TopicPartitionOffset[]): void {
    this.syncCommits.push([...offsets]);
  }
  pause(): void {}
  /** The last offset committed (asynchronously) per partition. */
  committed(): Record<number, number> {
    return Object.fromEntries(this.commits.map((c) => [c.partition, c.offset]));
  }
}

const logger = pino({ level: 'silent' });
const options = { maxBatchMessages: 100, pollWaitMs: 1, concurrency: 2, errorBackoffMs: 1, commitIntervalMs: 2 };
const users = new Map([['users', topic]]);

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 2));
}

test('each partition applies its messages in order; offsets are committed after them; stop commits synchronously', async () => {
  const consumer = new FakeConsumer([[msg(0, 0), msg(1, 5), msg(0, 1)], [msg(1, 6)]]);
  const applied: Record<number, number[]> = { 0: [], 1: [] };
  const loop = new SinkLoop({ consumer, topics: users, apply: async (m) => (m.forEach((x) => applied[x.partition]?.push(x.offset)), result(m)), observer: fanOutSink(), logger }, options);
  loop.assigned([{ topic: 'users', partition: 0 }, { topic: 'users', partition: 1 }]);
  loop.start();
  await until(() => consumer.committed()[0] === 2 && consumer.committed()[1] === 7);
  await loop.stop();
  assert.deepEqual(applied, { 0: [0, 1], 1: [5, 6] });
  assert.deepEqual(consumer.syncCommits.at(-1), [
    { topic: 'users', partition: 0, offset: 2 },
    { topic: 'users', partition: 1, offset: 7 },
  ]);
});

test('a slow partition does not hold the others up', async () => {
  const consumer = new FakeConsumer([[msg(0, 0), msg(1, 0)], [msg(1, 1)], [msg(1, 2)]]);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const loop = new SinkLoop(
    { consumer, topics: users, apply: async (m) => (m[0]?.partition === 0 ? await gate : undefined, result(m)), observer: fanOutSink(), logger },
    options,
  );
  loop.assigned([{ topic: 'users', partition: 0 }, { topic: 'users', partition: 1 }]);
  loop.start();
  await until(() => consumer.committed()[1] === 3);
  assert.equal(consumer.committed()[0], undefined, 'partition 0 is still applying');
  release();
  await until(() => consumer.committed()[0] === 1);
  await loop.stop();
});

test('a failing batch is applied again until it commits; messages of partitions not owned are left alone', async () => {
  const consumer = new FakeConsumer([[msg(0, 0), msg(3, 0)]]);
  let attempts = 0;
  const retried: string[] = [];
  const loop = new SinkLoop(
    {
      consumer,
      topics: users,
      apply: async (m) => {
        attempts += 1;
        if (attempts < 3) throw new RelayError('POSTGRES_UNAVAILABLE', 'down', { retriable: true });
        return result(m);
      },
      observer: fanOutSink({ batchRetried: (t, reason) => retried.push(`${t}: ${reason}`) }),
      logger,
    },
    options,
  );
  loop.assigned([{ topic: 'users', partition: 0 }]);
  loop.start();
  await until(() => consumer.committed()[0] === 1);
  await loop.stop();
  assert.equal(attempts, 3);
  assert.deepEqual(retried, ['users: down', 'users: down']);
  assert.equal(consumer.committed()[3], undefined);
});

test('a revoked partition waits for its batch in flight, commits it, and drops what it had queued', async () => {
  const consumer = new FakeConsumer([[msg(0, 0)], [msg(0, 1)]]);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const applied: number[] = [];
  const loop = new SinkLoop(
    {
      consumer,
      topics: users,
      apply: async (m) => {
        await gate;
        applied.push(...m.map((x) => x.offset));
        return result(m);
      },
      observer: fanOutSink(),
      logger,
    },
    options,
  );
  loop.assigned([{ topic: 'users', partition: 0 }]);
  loop.start();
  await new Promise((r) => setTimeout(r, 20));
  const revoked = loop.revoking([{ topic: 'users', partition: 0 }]);
  let done = false;
  void revoked.then(() => (done = true));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(done, false, 'revocation waits for the batch in flight');
  release();
  await revoked;
  assert.deepEqual(consumer.syncCommits, [[{ topic: 'users', partition: 0, offset: 1 }]]);
  await loop.stop();
  assert.deepEqual(applied, [0], 'the message queued behind the batch is left to the next owner');
  assert.equal(loop.partitions.size, 0);
});
