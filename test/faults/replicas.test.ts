import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planLocks } from '../../src/domain/lock-budget';
import { DEFAULT_OBSERVER_INLINE_LIMIT } from '../../src/config/topics-types';
import { qualifiedTable } from '../../src/postgres/identifiers';
import { createTestDatabase } from '../helpers/database';
import { createTopic, deleteTopics, uniqueNamespace } from '../helpers/kafka';
import { startRelay, writeTopicsFile, type RelayProcess } from '../helpers/relay-process';
import { readTopic } from './kafka-reader';
import { AppWriter } from './replica-app';
import { LockSampler, sampleLocks, slotHolders } from './replica-locks';
import { waitUntil } from './time';

/**
 * Many replicas, bounded cost: twelve relay processes share three active slots on one database
 * (max_locks_per_transaction left at its default) while application writers commit transactions
 * that take locks of their own, over a backlog. Checked: no application transaction fails, every
 * row is published, at most three relays hold slots or resource locks at any sample, no relay holds
 * more advisory locks than its budget, and an active relay killed with -9 is replaced within 10 s
 * (three times). Figures go to the test's diagnostics (docs/sizing.md quotes them).
 */

const RELAYS = 12;
const SLOTS = 3;
/** Small enough that the budget lowers the default batch size on any server size the suite uses. */
const SHARE_PERCENT = 10;
const BACKLOG = 20_000;
const ITEMS = 20_000;
const PARTITIONS = 4;
const KILLS = 3;
const TAKEOVER_LIMIT_MS = 10_000;

test('twelve relays, three active slots: bounded locks, no failed application transaction, takeover after kill -9', { timeout: 240_000 }, async (t) => {
  const db = await createTestDatabase('replicas');
  const namespace = uniqueNamespace('replicas');
  const topic = `${namespace}_items`;
  const relays: RelayProcess[] = [];
  const writers: AppWriter[] = [];
  const sampler = new LockSampler(db.pool, 100);
  try {
    const [server] = await db.query<{ max_locks: number; connections: number; prepared: number }>(
      `SELECT current_setting('max_locks_per_transaction')::int AS max_locks, current_setting('max_connections')::int AS connections,
              current_setting('max_prepared_transactions')::int AS prepared`,
    );
    assert.ok(server !== undefined);
    assert.equal(server.max_locks, 64, 'the test runs with the default max_locks_per_transaction');
    const lockTableSize = server.max_locks * (server.connections + server.prepared);
    const outcome = planLocks({ lockTableSize, sharePercent: SHARE_PERCENT, activeSlots: SLOTS, batchSize: 1000, maxInflightBatches: 2, observerInlineLimit: DEFAULT_OBSERVER_INLINE_LIMIT });
    assert.ok(outcome.ok && outcome.plan.budgetPerRelay !== undefined);
    const { plan } = outcome;
    const budget = plan.budgetPerRelay ?? 0;

    await db.query('CREATE TABLE items (id bigint PRIMARY KEY, version integer NOT NULL, updated_at timestamptz NOT NULL)');
    await db.query(`INSERT INTO items SELECT g, 1, clock_timestamp() FROM generate_series(1, ${ITEMS}) g`);
    await db.query(
      `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
       SELECT 'Item', (1 + g % ${ITEMS})::text, 'item_updated', $1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' FROM generate_series(1, ${BACKLOG}) g`,
      [topic],
    );
    await createTopic(topic, PARTITIONS);
    const topicsFile = writeTopicsFile(`namespace: ${namespace}
topics:
  items:
    partition_key: id
    models:
      Item:
        sql: >-
          SELECT id, version, updated_at, clock_timestamp() AS loaded_at, current_setting('application_name') AS loaded_by
            FROM items WHERE id = ANY($1::bigint[])
`);
    for (let i = 0; i < 4; i++) {
      const writer = new AppWriter(i, { url: db.url, schema: db.schema, topic, items: ITEMS, rowsPerTransaction: 10, locksPerTransaction: 40, pauseMs: 20 });
      writers.push(writer);
      writer.start();
    }
    const env = { ...db.relayEnv(), RELAY_ACTIVE_SLOTS: String(SLOTS), RELAY_LOCK_TABLE_SHARE: String(SHARE_PERCENT), RELAY_LISTEN_NOTIFY: 'false' };
    const startedAt = Date.now();
    sampler.start();
    for (let i = 0; i < RELAYS; i++) relays.push(startRelay(['run', '--topics', topicsFile], env));
    await Promise.all(relays.map((r) => r.waitForLog('relay running', 120_000)));
    for (const r of relays) assert.match(r.output(), new RegExp(`RELAY_BATCH_SIZE 1000 → ${plan.batchSize}`), 'each relay lowers its batch size to its budget');

    const table = qualifiedTable(db.schema, 'dionysus_outboxes');
    const instanceOf = (r: RelayProcess): string | undefined => /"instance":"([0-9a-f]+)"/.exec(r.output())?.[1];
    const takeoversMs: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      // An active relay that is claiming (it holds resource locks), killed with -9.
      let victim: { relay: RelayProcess; slot: number; pid: number } | undefined;
      const found = await waitUntil(async () => {
        const claiming = new Set((await sampleLocks(db.pool)).relays.filter((r) => r.resourceLocks > 0).map((r) => r.instance));
        const holder = (await slotHolders(db.pool, table)).find((h) => claiming.has(h.instance));
        const relay = relays.find((r) => holder !== undefined && instanceOf(r) === holder.instance && r.child.exitCode === null);
        victim = holder === undefined || relay === undefined ? undefined : { relay, slot: holder.slot, pid: holder.pid };
        return victim !== undefined;
      }, 30_000, 50);
      assert.ok(found && victim !== undefined, 'an active relay is claiming');
      const { relay, slot, pid } = victim;
      const killedAt = Date.now();
      relay.kill('SIGKILL');
      const replaced = await waitUntil(async () => (await slotHolders(db.pool, table)).some((h) => h.slot === slot && h.pid !== pid), TAKEOVER_LIMIT_MS, 25);
      const takeoverMs = Date.now() - killedAt;
      assert.ok(replaced, `slot ${slot} was not taken over within ${TAKEOVER_LIMIT_MS} ms of kill -9`);
      takeoversMs.push(takeoverMs);
      await relay.exited;
    }

    for (const w of writers) await w.stop();
    const drained = await waitUntil(async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM dionysus_outboxes WHERE published_at IS NULL'))[0]?.n) === 0, 120_000, 200);
    const drainedAt = Date.now();
    await sampler.stop();
    assert.ok(drained, 'every outbox row is published');

    const failures = writers.flatMap((w) => w.failures);
    assert.deepEqual(failures, [], 'no application transaction failed');
    // Every item's final state is on the topic.
    const messages = await readTopic(topic, PARTITIONS);
    const newest = new Map<string, number>();
    for (const m of messages) newest.set(m.key, Math.max(newest.get(m.key) ?? 0, m.version));
    const finals = await db.query<{ id: string; version: number }>('SELECT id::text AS id, version FROM items');
    const behind = finals.filter((f) => newest.get(`Item:${f.id}`) !== f.version);
    assert.deepEqual(behind.slice(0, 5), [], `${behind.length} items without their final version on the topic`);

    assert.ok(sampler.samples > 20, `pg_locks sampled ${sampler.samples} times`);
    assert.ok(sampler.maxSlotHolders <= SLOTS, `${sampler.maxSlotHolders} slots held at once`);
    assert.ok(sampler.maxClaiming <= SLOTS, `${sampler.maxClaiming} relays held resource locks at once`);
    assert.ok(sampler.maxRelayAdvisoryLocks <= budget, `a relay held ${sampler.maxRelayAdvisoryLocks} advisory locks, over its budget of ${budget}`);
    assert.ok(sampler.maxActiveResourceLocks <= SLOTS * (budget - 2), `the relays held ${sampler.maxActiveResourceLocks} resource locks at once`);

    const writes = writers.reduce((n, w) => n + w.rowsWritten, 0);
    t.diagnostic(
      JSON.stringify({
        lockTable: { maxLocksPerTransaction: server.max_locks, maxConnections: server.connections, maxPreparedTransactions: server.prepared, entries: lockTableSize },
        plan: { sharePercent: SHARE_PERCENT, slots: SLOTS, budgetPerRelay: budget, batchSize: plan.batchSize, inflight: plan.maxInflightBatches },
        peaks: {
          samples: sampler.samples,
          slotHolders: sampler.maxSlotHolders,
          claimingRelays: sampler.maxClaiming,
          relayAdvisoryLocks: sampler.maxRelayAdvisoryLocks,
          activeResourceLocks: sampler.maxActiveResourceLocks,
          lockTableEntries: sampler.maxTableEntries,
        },
        takeoversMs,
        rows: { backlog: BACKLOG, written: writes, applicationTransactions: writers.reduce((n, w) => n + w.committed, 0) },
        messages: messages.length,
        secondsToDrain: (drainedAt - startedAt) / 1000,
      }),
    );
  } finally {
    await sampler.stop().catch(() => undefined);
    for (const w of writers) await w.stop().catch(() => undefined);
    for (const r of relays) if (r.child.exitCode === null && r.child.signalCode === null) r.kill('SIGTERM');
    await Promise.all(relays.map((r) => Promise.race([r.exited, new Promise((resolve) => setTimeout(resolve, 30_000).unref())])));
    for (const r of relays) if (r.child.exitCode === null && r.child.signalCode === null) r.kill('SIGKILL');
    await deleteTopics([topic]);
    await db.drop();
  }
});
