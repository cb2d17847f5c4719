import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OutgoingMessage, SerializedRecord } from '../../../src/domain/message-builder';
import { RelayError } from '../../../src/errors';
import type { DeliveryOutcome } from '../../../src/kafka/publisher';
import { parseTopicsYaml } from '../../../src/config/topics-file';
import { GenesisRunner, type GenesisPorts, type GenesisPosition } from '../../../src/genesis/genesis-runner';
import { resolveTarget } from '../../../src/genesis/genesis-target';
import { Pacer } from '../../../src/genesis/pacing';

// The loop with in-memory ports: a page is recorded only after its delivery, a stop ends it after
// the page in flight, a failure ends it without recording.

const topics = parseTopicsYaml('namespace: ns\ntopics:\n  users:\n    models:\n      User: { view: users }\n', 'topics.yaml');
const target = resolveTarget(topics, 'users', 'User');
const rules = { modelName: 'User', fromMs: null, toMs: null, visibleOnly: true, softDeleteColumn: 'canceled_at', windowInQuery: false, relation: 'users' };

function fakes(count: number, deliver: (m: OutgoingMessage) => DeliveryOutcome = () => null) {
  const events: string[] = [];
  const records = new Map<string, SerializedRecord>();
  for (let id = 1; id <= count; id++) records.set(String(id), { id, canceled_at: id % 5 === 0 ? 'x' : null });
  const ports: GenesisPorts = {
    ids: {
      page: async (after, limit) => [...records.keys()].filter((id) => Number(id) > Number(after ?? 0)).slice(0, limit),
    },
    loader: {
      load: async (_t, _m, ids) => ({ records: new Map(ids.flatMap((id) => (records.has(id) ? [[id, records.get(id) as SerializedRecord]] : []))), failures: new Map() }),
      idType: () => 'integer',
    },
    publisher: {
      enqueueAll: async (messages) => {
        events.push(`enqueue ${messages.map((m) => m.key).join(',')}`);
        return { settled: Promise.resolve(messages.map(deliver)) };
      },
      refreshPartitions: async () => undefined,
      partitionCount: () => 1,
    },
    store: {
      recordPage: async (_run, lastId, sent, skipped) => void events.push(`record ${lastId} +${sent} sent +${skipped} skipped`),
    },
  };
  return { ports, events, records };
}

const start: GenesisPosition = { runId: '1', lastId: null, sent: 0, skipped: 0 };

test('pages in id order; each page delivered, then recorded; soft-deleted skipped with --visible-only', async () => {
  const { ports, events } = fakes(7);
  const pages: GenesisPosition[] = [];
  const runner = new GenesisRunner(ports, { target, rules, pageSize: 3, pacer: new Pacer(null, Date.now), onPage: (p) => pages.push(p) }, start);
  assert.equal(await runner.run(), 'done');
  assert.deepEqual(events, [
    'enqueue User:1,User:2,User:3',
    'record 3 +3 sent +0 skipped',
    'enqueue User:4,User:6',
    'record 6 +2 sent +1 skipped',
    'enqueue User:7',
    'record 7 +1 sent +0 skipped',
  ]);
  assert.deepEqual(pages.at(-1), { runId: '1', lastId: '7', sent: 6, skipped: 1 });
});

test('resumes after the recorded last id', async () => {
  const { ports, events } = fakes(7);
  const runner = new GenesisRunner(ports, { target, rules, pageSize: 10, pacer: new Pacer(null, Date.now), onPage: () => undefined }, { ...start, lastId: '5', sent: 4, skipped: 1 });
  assert.equal(await runner.run(), 'done');
  assert.deepEqual(events, ['enqueue User:6,User:7', 'record 7 +2 sent +0 skipped']);
});

test('stop() ends the run after the page in flight, even during a pacing wait', async () => {
  const { ports, events } = fakes(100);
  const runner = new GenesisRunner(
    ports,
    { target, rules, pageSize: 10, pacer: new Pacer(0.001, Date.now), onPage: () => setImmediate(() => runner.stop()) },
    start,
  );
  assert.equal(await runner.run(), 'interrupted');
  assert.deepEqual(events, ['enqueue User:1,User:2,User:3,User:4,User:6,User:7,User:8,User:9', 'record 10 +8 sent +2 skipped']);
});

test('a failed delivery ends the run and the page is not recorded', async () => {
  const refused = new RelayError('KAFKA_DELIVERY_FAILED', 'broker said no');
  const { ports, events } = fakes(10, (m) => (m.key === 'User:4' ? refused : null));
  const runner = new GenesisRunner(ports, { target, rules, pageSize: 3, pacer: new Pacer(null, Date.now), onPage: () => undefined }, start);
  await assert.rejects(runner.run(), /broker said no/);
  assert.deepEqual(events, ['enqueue User:1,User:2,User:3', 'record 3 +3 sent +0 skipped', 'enqueue User:4,User:6']);
});

test('a record refused as too large within a batch is sent again alone', async () => {
  let firstTry = true;
  const tooLarge = new RelayError('MESSAGE_TOO_LARGE', 'batch too large');
  const { ports, events } = fakes(2, (m) => {
    if (m.key === 'User:2' && firstTry) {
      firstTry = false;
      return tooLarge;
    }
    return null;
  });
  const runner = new GenesisRunner(ports, { target, rules, pageSize: 5, pacer: new Pacer(null, Date.now), onPage: () => undefined }, start);
  assert.equal(await runner.run(), 'done');
  assert.deepEqual(events, ['enqueue User:1,User:2', 'enqueue User:2', 'record 2 +2 sent +0 skipped']);
});

test('a serializer failure ends the run naming the record', async () => {
  const { ports } = fakes(3);
  const failing: GenesisPorts = {
    ...ports,
    loader: {
      ...ports.loader,
      load: async () => ({ records: new Map(), failures: new Map([['2', new RelayError('SERIALIZER_FAILED', 'serializer of User on ns_users: boom')]]) }),
    },
  };
  const runner = new GenesisRunner(failing, { target, rules, pageSize: 5, pacer: new Pacer(null, Date.now), onPage: () => undefined }, start);
  await assert.rejects(runner.run(), /boom/);
});
