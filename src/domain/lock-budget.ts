/**
 * The lock budget of one active relay, pure.
 *
 * PostgreSQL keeps every advisory lock, of the relays and of the application alike, in one shared
 * lock table of `max_locks_per_transaction × (max_connections + max_prepared_transactions)` entries;
 * when it is full, any transaction that needs one more lock fails ("out of shared memory"). A relay
 * holds one transaction-scoped lock per resource of each batch in flight, so with many relays the
 * table fills up. With a fixed number of active relays (slots), a share of the table can be divided
 * among them: each gets `floor(table × share% / slots)` locks, two of which are its session locks
 * (instance and slot), the rest for its batches' resource locks.
 */

/** Session-level advisory locks an active relay holds besides its batches': its instance lock and its slot. */
export const SESSION_LOCKS_PER_RELAY = 2;

export interface LockBudgetInput {
  /** max_locks_per_transaction × (max_connections + max_prepared_transactions), read from the server. */
  readonly lockTableSize: number;
  /** Percent of the lock table all active relays together may hold (relay.lockTableShare). */
  readonly sharePercent: number;
  /** Relays that may claim at once (relay.activeSlots); 0 = no limit, and then no budget. */
  readonly activeSlots: number;
  readonly batchSize: number;
  readonly maxInflightBatches: number;
  /** Observer fan-outs above this many records go through the outbox (topics observer_inline_limit). */
  readonly observerInlineLimit: number;
}

/** What one relay runs with: the settings, or lower values that fit its lock budget. */
export interface LockPlan {
  /** Locks this relay may hold in all; undefined without a limit on active relays. */
  readonly budgetPerRelay: number | undefined;
  /** Resource locks one batch may take; undefined without a limit. */
  readonly locksPerBatch: number | undefined;
  readonly batchSize: number;
  readonly maxInflightBatches: number;
  readonly observerInlineLimit: number;
  /** The settings that were lowered, as `NAME from → to`, for the start log. */
  readonly clamped: readonly string[];
}

export type LockPlanOutcome = { readonly ok: true; readonly plan: LockPlan } | { readonly ok: false; readonly reason: string };

/** The lock budget per active relay: its share of the lock table, session locks included. */
export function lockBudgetPerRelay(lockTableSize: number, sharePercent: number, activeSlots: number): number {
  return Math.floor((lockTableSize * sharePercent) / 100 / activeSlots);
}

/**
 * The effective batch size, batches in flight and observer inline limit of one relay: with a limit
 * on active relays, batches in flight × batch size stays within the relay's budget (in-flight
 * lowered first only when the budget cannot give each batch a lock), and an observer row's inline
 * fan-out fits one batch's locks. A budget with no room for a single resource lock is refused.
 */
export function planLocks(input: LockBudgetInput): LockPlanOutcome {
  const { batchSize, maxInflightBatches, observerInlineLimit } = input;
  if (input.activeSlots === 0) {
    return { ok: true, plan: { budgetPerRelay: undefined, locksPerBatch: undefined, batchSize, maxInflightBatches, observerInlineLimit, clamped: [] } };
  }
  const budget = lockBudgetPerRelay(input.lockTableSize, input.sharePercent, input.activeSlots);
  const forResources = budget - SESSION_LOCKS_PER_RELAY;
  if (forResources < 1) {
    return {
      ok: false,
      reason:
        `RELAY_LOCK_TABLE_SHARE=${input.sharePercent}% of PostgreSQL's lock table (${input.lockTableSize} entries: max_locks_per_transaction × (max_connections + max_prepared_transactions)) ` +
        `divided among RELAY_ACTIVE_SLOTS=${input.activeSlots} active relays leaves ${budget} locks per relay, and a relay needs ${SESSION_LOCKS_PER_RELAY} for its session and at least 1 per batch: ` +
        'raise RELAY_LOCK_TABLE_SHARE or max_locks_per_transaction, or lower RELAY_ACTIVE_SLOTS.',
    };
  }
  const inflight = Math.min(maxInflightBatches, forResources);
  const locksPerBatch = Math.floor(forResources / inflight);
  const size = Math.min(batchSize, locksPerBatch);
  const inline = Math.min(observerInlineLimit, locksPerBatch);
  const clamped = [
    inflight < maxInflightBatches ? `RELAY_MAX_INFLIGHT_BATCHES ${maxInflightBatches} → ${inflight}` : undefined,
    size < batchSize ? `RELAY_BATCH_SIZE ${batchSize} → ${size}` : undefined,
    inline < observerInlineLimit ? `observer_inline_limit ${observerInlineLimit} → ${inline}` : undefined,
  ].filter((c) => c !== undefined);
  return { ok: true, plan: { budgetPerRelay: budget, locksPerBatch, batchSize: size, maxInflightBatches: inflight, observerInlineLimit: inline, clamped } };
}

/** A pause of `baseMs` ± half, so that standbys polling for a slot do not move in step. `random` is in [0, 1). */
export function jitteredMs(baseMs: number, random: number): number {
  return Math.round(baseMs * (0.5 + random));
}
