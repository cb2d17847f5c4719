/**
 * Duplicate coalescing (a per-topic option): within one claimed batch, rows announcing the same
 * event for the same resource all publish the same current state, so one message is enough. The
 * last row of each group (claim order: oldest first, so the newest) represents the group; the
 * others are marked with its outcome. Unlike the gem's "consecutive duplicates" filter this works
 * across the whole batch, which is safe because every message carries the state at publish time.
 */
export interface CoalescibleRow {
  readonly resourceClass: string;
  readonly resourceId: string;
  readonly eventName: string;
}

/** For each row index, the index of the row that publishes for it (itself when it is the representative). */
export function coalesceRows(rows: readonly CoalescibleRow[]): number[] {
  const lastOfGroup = new Map<string, number>();
  rows.forEach((r, i) => lastOfGroup.set(`${r.resourceClass}\u0000${r.resourceId}\u0000${r.eventName}`, i));
  return rows.map((r) => lastOfGroup.get(`${r.resourceClass}\u0000${r.resourceId}\u0000${r.eventName}`) as number);
}
