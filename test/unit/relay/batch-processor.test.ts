import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import type { TopicConfig } from '../../../src/config/topics-types';
import type { ClaimedRow } from '../../../src/domain/outbox-row';
import { RelayError } from '../../../src/errors';
import type { TrackedBatch } from '../../../src/postgres/crash-tracker';
import type { ClaimedBatch } from '../../../src/postgres/outbox-store';
import { runBatch, type BatchDeps } from '../../../src/relay/batch-processor';
import { NOOP_OBSERVER } from '../../../src/relay/relay-observer';

// The in-flight registration of a batch whose rows publish only themselves is written while the
// claim connection takes the resource locks. Whatever fails after the entry exists, the entry must
// be ended: left behind, it would name resources that other relays' frozen-relay guard holds back
// for as long as this relay lives. These tests drive runBatch with stand-ins for the store, the
// batch and the crash tracker (the real ones are exercised in test/integration/relay).

const topic = { name: 'v1_users', ordering: 'snapshot', coalesce: false, models: new Map([['User', {}]]), dependencies: new Map() } as unknown as TopicConfig;

const row = (id: string, resourceId: string): ClaimedRow => ({
  id,
  resourceClass: 'User',
  resourceId,
  eventName: 'user_updated',
  topic: topic.name,
  partitionKey: null,
  attempts: 0,
  createdAtMs: 0,
  changeset: null,
});

interface Calls {
  begin: unknown[][];
  narrow: unknown[][];
  ended: unknown[];
  locked: unknown[];
}

function depsFor(batch: Partial<ClaimedBatch>, entry: TrackedBatch, calls: Calls, beginDelayed = false): BatchDeps {
  const claimed = {
    claimXid: '900',
    keepAlive: () => () => undefined,
    abandon: async () => undefined,
    ...batch,
  } as unknown as ClaimedBatch;
  return {
    store: { claim: async () => claimed },
    crashTracker: {
      guarding: true,
      instance: 'relay-a',
      begin: (...args: unknown[]) => {
        calls.begin.push(args);
        // Answered after the locks failed, as when the claim connection dies first.
        return beginDelayed ? new Promise((resolve) => setImmediate(() => resolve(entry))) : Promise.resolve(entry);
      },
      narrow: async (...args: unknown[]) => void calls.narrow.push(args),
      end: async (tracked: unknown) => void calls.ended.push(tracked),
    },
    loader: {
      load: async () => {
        throw new RelayError('POSTGRES_UNAVAILABLE', 'serializer connection lost', { retriable: true });
      },
    },
    observer: NOOP_OBSERVER,
    logger: pino({ level: 'silent' }),
    batchSize: 100,
    publishDelayMs: 0,
    claimKeepAliveMs: 0,
    idleInTransactionTimeoutMs: 60_000,
  } as unknown as BatchDeps;
}

const newCalls = (): Calls => ({ begin: [], narrow: [], ended: [], locked: [] });

test('the entry is ended when the resource locks fail, even if its registration answered after them', async () => {
  const calls = newCalls();
  const entry: TrackedBatch = { entryId: '41', suspects: new Set() };
  const deps = depsFor(
    {
      rows: [row('1', '7'), row('2', '8')],
      lockResources: async () => {
        throw new RelayError('POSTGRES_UNAVAILABLE', 'claim connection lost', { retriable: true });
      },
    },
    entry,
    calls,
    true,
  );
  await assert.rejects(runBatch(deps, topic), /claim connection lost/);
  assert.deepEqual(calls.begin, [[['1', '2'], '900', ['v1_users:User:7', 'v1_users:User:8']]], 'registered with its resource keys');
  assert.deepEqual(calls.ended, [entry]);
});

test('a crash suspect is narrowed to its own row and resource; the entry is ended when the batch fails later', async () => {
  const calls = newCalls();
  const entry: TrackedBatch = { entryId: '42', suspects: new Set(['2']) };
  const deps = depsFor(
    {
      rows: [row('1', '7'), row('2', '8'), row('3', '9')],
      lockResources: async (keys: readonly string[], guard?: string) => {
        calls.locked.push([keys, guard]);
        return { busy: new Set<string>(), frozen: new Set<string>() };
      },
    },
    entry,
    calls,
  );
  await assert.rejects(runBatch(deps, topic), /serializer connection lost/);
  assert.deepEqual(calls.locked, [[['v1_users:User:7', 'v1_users:User:8', 'v1_users:User:9'], 'relay-a']], 'locks taken with the registration, guarded');
  assert.deepEqual(calls.narrow, [[entry, ['2'], ['v1_users:User:8']]]);
  assert.deepEqual(calls.ended, [entry]);
});
