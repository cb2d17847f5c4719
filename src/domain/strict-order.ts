import type { ClaimedRow } from './outbox-row';

/** The strict-ordering key of a row: its partition_key, else its resource. */
export function strictKey(row: ClaimedRow): string {
  return row.partitionKey !== null && row.partitionKey !== '' ? row.partitionKey : `${row.resourceClass}:${row.resourceId}`;
}

/**
 * Strict ordering publishes at most one row per key per batch (the oldest; rows come oldest
 * first): if it fails, no later row of its key has been sent before it. The strict claim already
 * returns only each key's head (outbox-sql.ts); this keeps the rule in the relay as well, should a
 * claim ever return more.
 */
export function oldestPerKey(rows: readonly ClaimedRow[]): ClaimedRow[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = strictKey(row);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
