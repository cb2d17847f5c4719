import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jitteredMs, lockBudgetPerRelay, planLocks, type LockBudgetInput } from '../../../src/domain/lock-budget';

// PostgreSQL's defaults: max_locks_per_transaction 64 × (max_connections 100 + max_prepared_transactions 0).
const DEFAULT_TABLE = 6400;
const base: LockBudgetInput = { lockTableSize: DEFAULT_TABLE, sharePercent: 50, activeSlots: 3, batchSize: 1000, maxInflightBatches: 2, observerInlineLimit: 1000 };

test('the budget per active relay is its share of the lock table, rounded down', () => {
  assert.equal(lockBudgetPerRelay(DEFAULT_TABLE, 50, 3), 1066);
  assert.equal(lockBudgetPerRelay(DEFAULT_TABLE, 50, 4), 800);
  assert.equal(lockBudgetPerRelay(DEFAULT_TABLE, 100, 1), 6400);
  assert.equal(lockBudgetPerRelay(6464, 50, 4), 808);
});

test('no limit on active relays: the settings as they are, and no budget', () => {
  const outcome = planLocks({ ...base, activeSlots: 0 });
  assert.deepEqual(outcome, {
    ok: true,
    plan: { budgetPerRelay: undefined, locksPerBatch: undefined, batchSize: 1000, maxInflightBatches: 2, observerInlineLimit: 1000, clamped: [] },
  });
});

test('the batch size is lowered so that batches in flight × batch size + the session locks fit the budget', () => {
  const outcome = planLocks(base);
  assert.ok(outcome.ok);
  // 1066 - 2 session locks = 1064 for two batches: 532 each.
  assert.deepEqual(outcome.plan, {
    budgetPerRelay: 1066,
    locksPerBatch: 532,
    batchSize: 532,
    maxInflightBatches: 2,
    observerInlineLimit: 532,
    clamped: ['RELAY_BATCH_SIZE 1000 → 532', 'observer_inline_limit 1000 → 532'],
  });
  assert.ok(outcome.plan.batchSize * outcome.plan.maxInflightBatches + 2 <= 1066);
});

test('settings within the budget are kept, and nothing is said to be lowered', () => {
  const outcome = planLocks({ ...base, batchSize: 200, observerInlineLimit: 100 });
  assert.ok(outcome.ok);
  assert.equal(outcome.plan.batchSize, 200);
  assert.equal(outcome.plan.locksPerBatch, 532);
  assert.deepEqual(outcome.plan.clamped, []);
});

test('batches in flight are lowered only when the budget cannot give each one a lock', () => {
  // 6400 × 1% / 16 = 4 locks: 2 for the session, 2 for batches.
  const outcome = planLocks({ ...base, sharePercent: 1, activeSlots: 16, maxInflightBatches: 5 });
  assert.ok(outcome.ok);
  assert.equal(outcome.plan.maxInflightBatches, 2);
  assert.equal(outcome.plan.batchSize, 1);
  assert.deepEqual(outcome.plan.clamped, ['RELAY_MAX_INFLIGHT_BATCHES 5 → 2', 'RELAY_BATCH_SIZE 1000 → 1', 'observer_inline_limit 1000 → 1']);
});

test('a budget with no room for a resource lock is refused, naming the settings to change', () => {
  const outcome = planLocks({ ...base, sharePercent: 1, activeSlots: 32 });
  assert.equal(outcome.ok, false);
  assert.match(outcome.ok ? '' : outcome.reason, /RELAY_LOCK_TABLE_SHARE=1% of PostgreSQL's lock table \(6400 entries.*RELAY_ACTIVE_SLOTS=32 active relays leaves 2 locks per relay/);
  assert.match(outcome.ok ? '' : outcome.reason, /raise RELAY_LOCK_TABLE_SHARE or max_locks_per_transaction, or lower RELAY_ACTIVE_SLOTS/);
});

test('every plan with a limit keeps active slots × budget within the share', () => {
  for (const slots of [1, 2, 3, 4, 7, 20]) {
    for (const share of [10, 50, 100]) {
      for (const table of [640, DEFAULT_TABLE, 64 * 210]) {
        const outcome = planLocks({ ...base, lockTableSize: table, sharePercent: share, activeSlots: slots, maxInflightBatches: 3 });
        if (!outcome.ok) continue;
        const { plan } = outcome;
        const perRelay = plan.batchSize * plan.maxInflightBatches + 2;
        assert.ok(perRelay <= (plan.budgetPerRelay ?? 0), JSON.stringify({ slots, share, table, plan }));
        assert.ok(slots * perRelay <= (table * share) / 100, JSON.stringify({ slots, share, table, plan }));
      }
    }
  }
});

test('the slot poll is jittered by up to half of its interval either way', () => {
  assert.equal(jitteredMs(1000, 0), 500);
  assert.equal(jitteredMs(1000, 0.5), 1000);
  assert.equal(jitteredMs(1000, 0.999), 1499);
});
