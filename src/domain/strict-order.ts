import type { ClaimedRow } from './outbox-row';

/** What the strict-ordering key is made of. */
export type KeyedRow = Pick<ClaimedRow, 'id' | 'partitionKey' | 'resourceClass' | 'resourceId'>;

/** The strict-ordering key of a row: its partition_key, else its resource. */
export function strictKey(row: Omit<KeyedRow, 'id'>): string {
  return row.partitionKey !== null && row.partitionKey !== '' ? row.partitionKey : `${row.resourceClass}:${row.resourceId}`;
}

/**
 * Strict ordering publishes a claimed row only when it is its key's head: the first row of its key
 * in `pending`, the topic's rows not yet published or given up, in claim order (outbox-sql
 * strictPending). So no older row of its key is waiting, whether in this batch, in flight in another
 * batch of any relay, or failed and waiting for its retry: at most one row per key is in flight,
 * and if it fails, no later row of its key has been sent before it. The other claimed rows stay
 * pending for a later claim; so does a claimed row missing from `pending`, which cannot happen
 * while the claim holds its lock, but would not prove the row a head.
 */
export function keyHeads<T extends KeyedRow>(claimed: readonly T[], pending: readonly KeyedRow[]): T[] {
  const seen = new Set<string>();
  const heads = new Set<string>();
  for (const row of pending) {
    const key = strictKey(row);
    if (seen.has(key)) continue;
    seen.add(key);
    heads.add(row.id);
  }
  return claimed.filter((row) => heads.has(row.id));
}
