import type { ClaimedRow } from '../domain/outbox-row';
import type { TrackedBatch } from '../postgres/crash-tracker';
import type { InFlightRegistry } from './batch-ports';

/**
 * One batch's entry in the registry of batches in flight (crash tracking, and the frozen-relay
 * guard's list of resources). It exists from before anything is loaded until nothing of the batch
 * can still be sent, so a row crashing this process is counted, and it must always be ended: left
 * behind while this relay lives, it would make other relays' guard hold its resources back.
 */
export class InFlightEntry {
  private tracked: TrackedBatch | undefined;
  private publishedSuspects: readonly string[] = [];

  constructor(private readonly registry: InFlightRegistry) {}

  /** Registered (crash tracking is on and the entry was written). */
  get registered(): boolean {
    return this.tracked !== undefined;
  }

  /** The instance id that turns the frozen-relay guard on in the resource locks, when crash tracking has it. */
  get guardInstance(): string | undefined {
    return this.registry.guarding ? this.registry.instance : undefined;
  }

  /** Registers the rows, and their resource keys when they are known this early. */
  async begin(rowIds: readonly string[], claimXid: string | undefined, keys?: readonly string[]): Promise<void> {
    this.tracked = await (keys === undefined ? this.registry.begin(rowIds, claimXid) : this.registry.begin(rowIds, claimXid, keys));
  }

  /** The first of `rows` that was in flight when a relay died before. */
  suspectAmong(rows: readonly ClaimedRow[]): ClaimedRow | undefined {
    const tracked = this.tracked;
    return tracked === undefined ? undefined : rows.find((r) => tracked.suspects.has(r.id));
  }

  /** Re-registers the entry as only `rowIds`, with only `keys` when the keys were registered with it. */
  async narrow(rowIds: readonly string[], keys?: readonly string[]): Promise<void> {
    if (this.tracked !== undefined) await this.registry.narrow(this.tracked, rowIds, keys);
  }

  /** Registers the resources the batch locked, before it sends anything. */
  registerKeys(keys: readonly string[]): Promise<void> {
    return this.registry.registerKeys(this.tracked, keys);
  }

  /** The batch committed: those of `rows` that were suspects proved innocent. */
  published(rows: readonly ClaimedRow[]): void {
    const tracked = this.tracked;
    this.publishedSuspects = tracked === undefined ? [] : rows.filter((r) => tracked.suspects.has(r.id)).map((r) => r.id);
  }

  /** Clears the entry (end() never rejects; a failed deletion is retried with the next batch's). */
  end(): Promise<void> {
    return this.registry.end(this.tracked, this.publishedSuspects);
  }
}
