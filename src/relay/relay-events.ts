/**
 * What the relay loop reports about itself. Metrics and health implement it; the loop never
 * depends on prom-client, and a listener that throws is caught by the caller (observability can
 * never crash the loop).
 */
export type BatchPhase = 'claim' | 'load' | 'produce' | 'mark';

export interface RelayEvents {
  /** A claim attempt finished (with rows, without, or failed): the liveness heartbeat. */
  claimFinished(topic: string): void;
  /** A claim returned rows: the batch size. */
  batchClaimed(topic: string, rows: number): void;
  phaseFinished(phase: BatchPhase, seconds: number): void;
  rowsPublished(topic: string, latenciesSeconds: readonly number[]): void;
  rowsFailed(topic: string, errorClasses: readonly string[]): void;
  rowsGivenUp(topic: string, count: number): void;
  /**
   * Rows held back (left pending, no attempt counted): another batch is publishing their resource
   * right now, or a live relay whose claim ended may still send it.
   */
  rowsHeldBack(topic: string, count: number): void;
  /** A batch was abandoned as a whole (database or broker trouble); its rows are claimed again. */
  batchAbandoned(topic: string, reason: string): void;
  /** Every loop pass (all topics tried once); drives the compatibility health file. */
  passFinished(): void;
}

export const NOOP_EVENTS: RelayEvents = {
  claimFinished: () => undefined,
  batchClaimed: () => undefined,
  phaseFinished: () => undefined,
  rowsPublished: () => undefined,
  rowsFailed: () => undefined,
  rowsGivenUp: () => undefined,
  rowsHeldBack: () => undefined,
  batchAbandoned: () => undefined,
  passFinished: () => undefined,
};

/** Calls an observer method, swallowing anything it throws. */
export function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A broken metric must not stop publishing.
  }
}
