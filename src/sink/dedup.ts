import type { SinkEvent } from './envelope';
import { scalarText } from './json-value';
import { timestampMicros } from './timestamps';

/**
 * The gem's duplicate removal within a batch (RemoveDuplicatesStrategy, contract §5). It applies
 * only when every message of the batch has exactly one event with exactly one record (a tombstone
 * has none, so one tombstone turns it off). Messages are then grouped by event name and the
 * record's `id` (from the payload, not the Kafka key); each group keeps the message with the newest
 * `updated_at` (a missing one counts as now; the first wins a tie), at the group's first position.
 *
 * One deliberate difference: when an `updated_at` is not a readable timestamp, the gem's whole
 * batch fails; here the batch is left as it is (no message removed), so no valid update is
 * dropped in favour of one that will be dead-lettered.
 */
export interface Deduplicated<T> {
  readonly kept: readonly T[];
  readonly removed: readonly T[];
}

/**
 * `eventsOf` gives a message's events (undefined for a tombstone); `nowMicros` stands for a
 * missing updated_at.
 */
export function removeDuplicates<T>(
  batch: readonly T[],
  eventsOf: (message: T) => readonly SinkEvent[] | undefined,
  nowMicros: number,
): Deduplicated<T> {
  const singles: Array<{ key: string; time: number }> = [];
  for (const message of batch) {
    const events = eventsOf(message);
    const [event] = events ?? [];
    if (events === undefined || events.length !== 1 || event === undefined || event.records.length !== 1) return { kept: batch, removed: [] };
    const record = event.records[0];
    const updatedAt = record?.['updated_at'];
    const time = updatedAt === undefined || updatedAt === null ? nowMicros : timestampMicros(updatedAt);
    if (time === undefined) return { kept: batch, removed: [] };
    singles.push({ key: `${event.eventName}\u0000${scalarText(record?.['id'])}`, time });
  }
  const winner = new Map<string, number>();
  singles.forEach(({ key, time }, index) => {
    const best = winner.get(key);
    if (best === undefined || time > (singles[best] as { time: number }).time) winner.set(key, index);
  });
  const kept: T[] = [];
  const removed: T[] = [];
  const placed = new Set<string>();
  singles.forEach(({ key }, index) => {
    if (!placed.has(key)) {
      placed.add(key);
      kept.push(batch[winner.get(key) as number] as T);
    }
    if (winner.get(key) !== index) removed.push(batch[index] as T);
  });
  return { kept, removed };
}
