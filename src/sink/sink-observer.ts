import type { ApplyTally } from './batch-applier';

/** What one committed partition batch did, for metrics and logs. */
export interface BatchReport {
  readonly topic: string;
  readonly partition: number;
  /** Messages whose effects were committed (applied, or with nothing to apply). */
  readonly messages: number;
  readonly tally: ApplyTally;
  readonly duplicates: number;
  readonly tombstones: number;
  /** Events not persisted: unmapped or ignored model, or another event without an inbox. */
  readonly skippedEvents: number;
  readonly inboxEvents: number;
  /** Wall time of the transaction (from BEGIN to COMMIT), in seconds. */
  readonly applySeconds: number;
  /** now - Kafka timestamp of each committed message, in seconds. */
  readonly ageSeconds: readonly number[];
}

/**
 * The sink's observation points; metrics and health implement them. Calls never throw and never
 * wait: observability cannot hold up applying.
 */
export interface SinkObserver {
  /** A round of the loop finished (fetch, apply, commit), with or without messages: the liveness heartbeat. */
  roundFinished(): void;
  batchApplied(report: BatchReport): void;
  /** A batch was rolled back and will be applied again (database or broker trouble, a concurrent writer). */
  batchRetried(topic: string, reason: string): void;
  deadLettered(topic: string, code: string): void;
  partitionStopped(topic: string, partition: number, code: string): void;
  rebalanced(kind: 'assigned' | 'revoked', partitions: number): void;
}

/** Forwards each report to every observer (each implementing what it cares about); one that throws cannot stop the others, nor the sink. */
export function fanOutSink(...observers: ReadonlyArray<Partial<SinkObserver>>): SinkObserver {
  const call = (method: keyof SinkObserver, args: unknown[]): void => {
    for (const observer of observers) {
      try {
        (observer[method] as ((...a: unknown[]) => void) | undefined)?.apply(observer, args);
      } catch {
        // A broken metric must not stop applying.
      }
    }
  };
  return {
    roundFinished: () => call('roundFinished', []),
    batchApplied: (report) => call('batchApplied', [report]),
    batchRetried: (topic, reason) => call('batchRetried', [topic, reason]),
    deadLettered: (topic, code) => call('deadLettered', [topic, code]),
    partitionStopped: (topic, partition, code) => call('partitionStopped', [topic, partition, code]),
    rebalanced: (kind, partitions) => call('rebalanced', [kind, partitions]),
  };
}
