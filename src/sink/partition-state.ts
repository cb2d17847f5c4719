import type { ConsumedMessage } from './batch-preparation';

/**
 * What the sink knows of each partition it owns: where its applied messages end (the next offset
 * to commit), what was committed, whether it is stopped by a poison message or being revoked, and
 * the batch in flight that a revocation must wait for. No I/O: the loop and the rebalance handler
 * read and update it.
 */
export interface PartitionState {
  readonly topic: string;
  readonly partition: number;
  /** Offset after the last message applied (committed or not); undefined before the first batch. */
  nextOffset: number | undefined;
  /** Offset of the first message fetched since the assignment (where applying starts). */
  firstFetched: number | undefined;
  /** Last offset handed to a commit. */
  committedOffset: number | undefined;
  /** Stopped at a poison message (on_poison: stop): not fetched from until reassigned. */
  stopped: boolean;
  /** Being revoked: no new batch starts. */
  revoking: boolean;
  inflight: Promise<void> | undefined;
  /** Fetched messages waiting for the partition's next batch. */
  queue: ConsumedMessage[];
}

export interface TopicPartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class PartitionStates {
  private readonly states = new Map<string, PartitionState>();

  get size(): number {
    return this.states.size;
  }

  all(): PartitionState[] {
    return [...this.states.values()];
  }

  get(topic: string, partition: number): PartitionState | undefined {
    return this.states.get(partitionKey(topic, partition));
  }

  assign(topic: string, partition: number): PartitionState {
    const key = partitionKey(topic, partition);
    const state: PartitionState = { topic, partition, nextOffset: undefined, firstFetched: undefined, committedOffset: undefined, stopped: false, revoking: false, inflight: undefined, queue: [] };
    this.states.set(key, state);
    return state;
  }

  remove(topic: string, partition: number): void {
    this.states.delete(partitionKey(topic, partition));
  }

  /** A partition that may take a new batch: owned, not stopped, not being revoked. */
  accepts(topic: string, partition: number): PartitionState | undefined {
    const state = this.get(topic, partition);
    return state === undefined || state.stopped || state.revoking ? undefined : state;
  }

  /** Offsets applied but not yet handed to a commit; marks them as handed. */
  takeUncommitted(states: readonly PartitionState[] = this.all()): TopicPartitionOffset[] {
    const offsets: TopicPartitionOffset[] = [];
    for (const s of states) {
      if (s.nextOffset === undefined || s.nextOffset === s.committedOffset) continue;
      offsets.push({ topic: s.topic, partition: s.partition, offset: s.nextOffset });
      s.committedOffset = s.nextOffset;
    }
    return offsets;
  }

  /** Every applied offset (for the synchronous commit on revoke and at shutdown, which must not rely on earlier async ones). */
  applied(states: readonly PartitionState[] = this.all()): TopicPartitionOffset[] {
    const offsets: TopicPartitionOffset[] = [];
    for (const s of states) {
      if (s.nextOffset === undefined) continue;
      offsets.push({ topic: s.topic, partition: s.partition, offset: s.nextOffset });
      s.committedOffset = s.nextOffset;
    }
    return offsets;
  }
}
