import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { parseTopicsYaml } from '../../../src/config/topics-file';
import type { TopicConfig } from '../../../src/config/topics-types';
import type { OutgoingMessage } from '../../../src/domain/message-builder';
import type { ClaimedRow } from '../../../src/domain/outbox-row';
import { RelayError } from '../../../src/errors';
import type { DeliveryOutcome } from '../../../src/kafka/delivery-tracker';
import type { FailureMark } from '../../../src/postgres/claimed-batch';
import type { TrackedBatch } from '../../../src/postgres/crash-tracker';
import type { LoadResult } from '../../../src/postgres/serializer-loader';
import { runBatch } from '../../../src/relay/batch';
import type { BatchDeps, ClaimedRows, InFlightRegistry, MessageSink, RecordSource } from '../../../src/relay/batch-ports';
import { NOOP_EVENTS } from '../../../src/relay/relay-events';
import { usersTopicsYaml } from '../../helpers/topics-yaml';

// runBatch driven with stand-ins for the claim, the in-flight registry, the serializers and the
// producer (the real ones are exercised in test/integration/relay).

const topics = parseTopicsYaml(usersTopicsYaml('v1'), 'topics.yaml');
const topic = topics.byName.get('v1_users') as TopicConfig;

const row = (id: string, resourceId: string, attempts = 0): ClaimedRow => ({
  id,
  resourceClass: 'User',
  resourceId,
  eventName: 'user_updated',
  topic: topic.name,
  partitionKey: null,
  attempts,
  createdAtMs: 0,
  changeset: null,
});

interface Calls {
  begin: unknown[][];
  narrow: unknown[][];
  ended: unknown[];
  locked: unknown[];
  published: string[][];
  failed: FailureMark[][];
}

const newCalls = (): Calls => ({ begin: [], narrow: [], ended: [], locked: [], published: [], failed: [] });

function claimedRows(rows: readonly ClaimedRow[], calls: Calls, overrides: Partial<ClaimedRows> = {}): ClaimedRows {
  return {
    rows,
    claimXid: '900',
    keepAlive: () => () => undefined,
    sessionMayBeLost: () => false,
    commit: async () => undefined,
    abandon: async () => undefined,
    strictPending: async () => [],
    lockResources: async (keys, guard) => {
      calls.locked.push([keys, guard]);
      return { busy: new Set<string>(), frozen: new Set<string>() };
    },
    insertFanout: async () => undefined,
    markPublished: async (ids) => void calls.published.push([...ids]),
    markPublishedAndCommit: async (ids) => void calls.published.push([...ids]),
    markFailed: async (marks) => void calls.failed.push([...marks]),
    ...overrides,
  };
}

function registry(entry: TrackedBatch, calls: Calls, beginDelayed = false): InFlightRegistry {
  return {
    guarding: true,
    instance: 'relay-a',
    begin: (...args) => {
      calls.begin.push(args);
      // Answered after the locks failed, as when the claim connection dies first.
      return beginDelayed ? new Promise((resolve) => setImmediate(() => resolve(entry))) : Promise.resolve(entry);
    },
    narrow: async (...args) => void calls.narrow.push(args),
    registerKeys: async () => undefined,
    end: async (tracked) => void calls.ended.push(tracked),
  };
}

const failingLoader: RecordSource = {
  load: async () => {
    throw new RelayError('POSTGRES_UNAVAILABLE', 'serializer connection lost', { retriable: true });
  },
  idType: () => 'integer',
};

/** Records for the given ids (`{id, name}`); any other id is gone. */
const loaderOf = (ids: readonly string[]): RecordSource => ({
  load: async (_topic, _model, wanted): Promise<LoadResult> => ({
    records: new Map(wanted.filter((id) => ids.includes(id)).map((id) => [id, { id: Number(id), name: `user ${id}` }])),
    failures: new Map(),
  }),
  idType: () => 'integer',
});

/** A producer whose delivery reports are `outcome(message)`; records what was enqueued. */
function sink(sent: OutgoingMessage[][], outcome: (m: OutgoingMessage) => DeliveryOutcome = () => null): MessageSink {
  return {
    enqueueAll: async (messages) => {
      sent.push([...messages]);
      return { settled: Promise.resolve(messages.map(outcome)) };
    },
    refreshPartitions: async () => undefined,
    partitionCount: () => 1,
  };
}

function depsFor(batch: ClaimedRows, inFlight: InFlightRegistry, records: RecordSource, kafka: MessageSink = sink([])): BatchDeps {
  return {
    outbox: { claim: async () => batch },
    inFlight,
    records,
    dependencies: { parents: async () => new Map() },
    observers: { all: [], relatedPage: async () => [] },
    kafka,
    events: NOOP_EVENTS,
    logger: pino({ level: 'silent' }),
    settings: {
      batchSize: 100,
      publishDelayMs: 0,
      claimKeepAliveMs: 0,
      idleInTransactionTimeoutMs: 60_000,
      observerInlineLimit: 1000,
      retryPolicy: { baseSeconds: 5, maxDelaySeconds: 0, jitterRatio: 0, maxAttempts: 3 },
      random: () => 0,
    },
  };
}

// The in-flight registration of a batch whose rows publish only themselves is written while the
// claim connection takes the resource locks. Whatever fails after the entry exists, the entry must
// be ended: left behind, it would name resources that other relays' frozen-relay guard holds back
// for as long as this relay lives.

test('the entry is ended when the resource locks fail, even if its registration answered after them', async () => {
  const calls = newCalls();
  const entry: TrackedBatch = { entryId: '41', suspects: new Set() };
  const batch = claimedRows([row('1', '7'), row('2', '8')], calls, {
    lockResources: async () => {
      throw new RelayError('POSTGRES_UNAVAILABLE', 'claim connection lost', { retriable: true });
    },
  });
  await assert.rejects(runBatch(depsFor(batch, registry(entry, calls, true), failingLoader), topic), /claim connection lost/);
  assert.deepEqual(calls.begin, [[['1', '2'], '900', ['v1_users:User:7', 'v1_users:User:8']]], 'registered with its resource keys');
  assert.deepEqual(calls.ended, [entry]);
});

test('a crash suspect is narrowed to its own row and resource; the entry is ended when the batch fails later', async () => {
  const calls = newCalls();
  const entry: TrackedBatch = { entryId: '42', suspects: new Set(['2']) };
  const batch = claimedRows([row('1', '7'), row('2', '8'), row('3', '9')], calls);
  await assert.rejects(runBatch(depsFor(batch, registry(entry, calls), failingLoader), topic), /serializer connection lost/);
  assert.deepEqual(calls.locked, [[['v1_users:User:7', 'v1_users:User:8', 'v1_users:User:9'], 'relay-a']], 'locks taken with the registration, guarded');
  assert.deepEqual(calls.narrow, [[entry, ['2'], ['v1_users:User:8']]]);
  assert.deepEqual(calls.ended, [entry]);
});

test('each row is marked by its own outcome: acknowledged, gone, refused, broker trouble, held back', async () => {
  const calls = newCalls();
  const entry: TrackedBatch = { entryId: '43', suspects: new Set() };
  const batch = claimedRows([row('1', '7'), row('2', '8', 2), row('3', '9'), row('4', '10'), row('5', '11')], calls, {
    lockResources: async () => ({ busy: new Set(['v1_users:User:11']), frozen: new Set<string>() }),
  });
  const sent: OutgoingMessage[][] = [];
  const kafka = sink(sent, (m) => {
    if (m.key === 'User:8') return new RelayError('KAFKA_TOPIC_UNAVAILABLE', 'delivery to v1_users failed: unknown topic');
    if (m.key === 'User:10') return new RelayError('KAFKA_DELIVERY_FAILED', 'delivery to v1_users failed: message timed out', { retriable: true });
    return null;
  });
  // User 9 no longer exists: its user_updated row sends nothing and is marked published.
  const result = await runBatch(depsFor(batch, registry(entry, calls), loaderOf(['7', '8', '10', '11']), kafka), topic);
  assert.deepEqual(
    sent.map((messages) => messages.map((m) => m.key)),
    [['User:7', 'User:8', 'User:10']],
    'User:11 is held back before anything is sent',
  );
  assert.deepEqual(calls.published, [['1', '3']]);
  assert.deepEqual(
    calls.failed.map((marks) => marks.map((m) => [m.id, m.errorClass, m.giveUp])),
    [[['2', 'KAFKA_TOPIC_UNAVAILABLE', true]]],
    'the third failure of row 2 gives it up (maxAttempts 3)',
  );
  assert.deepEqual(result, { attempted: 5, published: 2, failed: 1, givenUp: 1, released: 1, heldBack: 1, deferred: 0 });
});

test('messages refused as too large are sent again one by one; coalesced rows share their representative outcome', async () => {
  const calls = newCalls();
  const entry: TrackedBatch = { entryId: '44', suspects: new Set() };
  const coalescing = { ...topic, coalesce: true };
  const batch = claimedRows([row('1', '7'), row('2', '8'), row('3', '7')], calls);
  const sent: OutgoingMessage[][] = [];
  const tooLarge = new RelayError('MESSAGE_TOO_LARGE', 'delivery to v1_users failed: record list too large');
  // The first attempt fails the whole record batch; alone, User:7 goes through and User:8 is still too large.
  const kafka = sink(sent, (m) => (sent.length === 1 || m.key === 'User:8' ? tooLarge : null));
  const result = await runBatch(depsFor(batch, registry(entry, calls), loaderOf(['7', '8']), kafka), coalescing);
  assert.deepEqual(
    sent.map((messages) => messages.map((m) => m.key)),
    [['User:8', 'User:7'], ['User:8'], ['User:7']],
  );
  assert.deepEqual(calls.published, [['1', '3']], 'row 1 is coalesced into row 3, which published User:7');
  assert.deepEqual(calls.failed.map((marks) => marks.map((m) => [m.id, m.errorClass, m.giveUp])), [[['2', 'MESSAGE_TOO_LARGE', false]]]);
  assert.equal(result.failed, 1);
});
