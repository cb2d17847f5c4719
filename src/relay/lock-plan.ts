import type { Logger } from 'pino';
import type { Settings } from '../config/settings';
import { planLocks, type LockPlan } from '../domain/lock-budget';
import { RelayError } from '../errors';
import { lockTableUse } from '../postgres/lock-sql';

/**
 * What `run` claims with, from the settings and the server's lock table (read at start): with a
 * limit on active relays, the batch size, batches in flight and observer inline limit that fit
 * the relay's lock budget (domain/lock-budget.ts), each lowering logged; a budget with no room is
 * refused as a configuration error (exit 2). Without a limit, the settings as they are, with a
 * warning when one relay alone would take over half of the lock table.
 */
export function lockPlanAtStart(logger: Logger, settings: Settings, lockTableSize: number, observerInlineLimit: number): LockPlan {
  const { relay } = settings;
  const outcome = planLocks({
    lockTableSize,
    sharePercent: relay.lockTableShare,
    activeSlots: relay.activeSlots,
    batchSize: relay.batchSize,
    maxInflightBatches: relay.maxInflightBatches,
    observerInlineLimit,
  });
  if (!outcome.ok) throw new RelayError('CONFIG_INVALID', outcome.reason, { context: { lockTableSize } });
  const { plan } = outcome;
  if (plan.budgetPerRelay === undefined) {
    const perRelay = relay.batchSize * relay.maxInflightBatches;
    if (lockTableUse(perRelay, lockTableSize).overHalf) {
      logger.warn(
        { locksPerRelay: perRelay, lockTableSize },
        "RELAY_BATCH_SIZE × RELAY_MAX_INFLIGHT_BATCHES advisory locks per relay use more than half of PostgreSQL's lock table (max_locks_per_transaction × connections): set RELAY_ACTIVE_SLOTS, raise max_locks_per_transaction or lower them",
      );
    }
    return plan;
  }
  const context = { lockTableSize, activeSlots: relay.activeSlots, lockTableShare: relay.lockTableShare, budgetPerRelay: plan.budgetPerRelay, locksPerBatch: plan.locksPerBatch };
  if (plan.clamped.length > 0) {
    logger.warn({ ...context, clamped: plan.clamped }, `lowered to fit this relay's lock budget: ${plan.clamped.join(', ')}`);
  } else {
    logger.info(context, "batches fit this relay's lock budget");
  }
  return plan;
}
