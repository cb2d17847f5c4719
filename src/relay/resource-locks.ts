import type { Logger } from 'pino';
import { RelayError } from '../errors';
import type { LockOutcome } from '../postgres/claimed-batch';
import type { ResourceLocker } from './batch-ports';
import type { RowTargets, Target } from './batch-targets';
import type { InFlightEntry } from './in-flight-entry';

/**
 * A batch's resource locks: a transaction-scoped advisory lock per target (topic, model, id), taken
 * before its state is read and held until the marks commit, so no other batch of any relay sends
 * that resource in between (LOCK_RESOURCES in postgres/lock-sql.ts). The locked keys are written into
 * the batch's in-flight entry before anything is sent, for the frozen-relay guard of other relays.
 * A target that another batch holds right now (busy) or that a frozen relay may still send (frozen)
 * is held back: its row is left pending for a later claim.
 */

/** A target's key, as the advisory locks and the in-flight entry name it. */
export function resourceKey(t: Target): string {
  return `${t.topic.name}:${t.model}:${t.resourceId}`;
}

/** The keys of every target of the rows. */
export function targetKeys(targets: readonly RowTargets[]): string[] {
  return targets.flatMap((t) => (t instanceof RelayError ? [] : t.map(resourceKey)));
}

/**
 * The rows' resources known from the claim alone (every row publishes itself): the entry is
 * registered with their keys while the claim connection takes the locks, one round trip. The entry
 * exists as soon as its registration answers, even when the locks then fail, so the caller's end()
 * clears it.
 */
export async function registerWithLocks(
  batch: ResourceLocker & { readonly claimXid: string | undefined },
  entry: InFlightEntry,
  rowIds: readonly string[],
  targets: readonly RowTargets[],
): Promise<LockOutcome> {
  const keys = targetKeys(targets);
  const [registration, locks] = await Promise.allSettled([entry.begin(rowIds, batch.claimXid, keys), batch.lockResources(keys, entry.guardInstance)]);
  if (registration.status === 'rejected') throw registration.reason;
  if (locks.status === 'rejected') throw locks.reason;
  return locks.value;
}

/**
 * The locks of targets found after the registration (dependency or observer rows needed a query):
 * taken, and their keys written into the registered entry, both before anything is read or sent.
 */
export async function lockTargets(batch: ResourceLocker, entry: InFlightEntry, targets: readonly RowTargets[]): Promise<LockOutcome> {
  const keys = targetKeys(targets);
  const [locked] = await Promise.all([batch.lockResources(keys, entry.registered ? entry.guardInstance : undefined), entry.registerKeys(keys)]);
  return locked;
}

/**
 * The targets with every row that publishes a busy or frozen resource turned into RESOURCE_HELD
 * (left pending, not counted as an attempt).
 */
export function holdBack(logger: Logger, targets: readonly RowTargets[], { busy, frozen }: LockOutcome): RowTargets[] {
  if (busy.size === 0 && frozen.size === 0) return [...targets];
  if (frozen.size > 0) logger.warn({ resources: frozen.size }, 'resources held back: a live relay lost its claim while it may still have their messages queued');
  if (busy.size > 0) logger.debug({ resources: busy.size }, 'resources left for a later claim: another batch is publishing them');
  return targets.map((t) => {
    if (t instanceof RelayError) return t;
    const target = t.find((x) => busy.has(resourceKey(x)) || frozen.has(resourceKey(x)));
    if (target === undefined) return t;
    return new RelayError(
      'RESOURCE_HELD',
      frozen.has(resourceKey(target))
        ? `${target.model} ${target.resourceId} on ${target.topic.name} may still be sent by a relay whose claim ended while it was not responding (frozen?): left pending until it resumes or exits`
        : `${target.model} ${target.resourceId} on ${target.topic.name} is being published by another batch: left pending for a later claim`,
      { retriable: true },
    );
  });
}

/**
 * The targets within a batch's lock budget (`cap` distinct resource locks; undefined = no cap):
 * rows are taken in order while their keys fit, and every later row whose keys do not fit is
 * turned into RESOURCE_HELD (left pending for a later claim, no attempt counted). The first row
 * with targets always goes whole, so that a row with more targets than the cap is still published
 * (alone, over the cap) instead of waiting forever; the observer inline limit is lowered to the cap
 * at start, which keeps that rare.
 */
export function withinLockCap(targets: readonly RowTargets[], cap: number | undefined): RowTargets[] {
  if (cap === undefined) return [...targets];
  const taken = new Set<string>();
  return targets.map((t) => {
    if (t instanceof RelayError || t.length === 0) return t;
    const keys = t.map(resourceKey);
    const added = keys.filter((k) => !taken.has(k));
    if (taken.size > 0 && taken.size + new Set(added).size > cap) {
      return new RelayError('RESOURCE_HELD', `the batch's lock budget (${cap} resource locks) is spent: left pending for a later claim`, { retriable: true });
    }
    for (const k of added) taken.add(k);
    return t;
  });
}
