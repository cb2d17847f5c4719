/**
 * Pacing of a genesis, pure (the clock is passed in).
 *
 * The pace is a schedule, not a sleep per page: the n-th record of a session is due
 * `n / rate` seconds after the session started. A page that took long to load therefore shortens
 * the next wait instead of adding to it, and the average rate stays exactly the one asked for.
 * Records are counted when examined (sent or skipped), so messages per second never exceed the
 * rate (a genesis-replica topic gets two messages per record).
 */
export class Pacer {
  private readonly startedAt: number;

  constructor(
    private readonly ratePerSecond: number | null,
    private readonly now: () => number,
  ) {
    this.startedAt = now();
  }

  /** Milliseconds to wait before the next page, after `examined` records in this session. */
  delayMs(examined: number): number {
    if (this.ratePerSecond === null) return 0;
    const dueAt = this.startedAt + (examined * 1000) / this.ratePerSecond;
    return Math.max(0, Math.ceil(dueAt - this.now()));
  }
}

/**
 * Ids per page: the asked batch size, but never more than one second's worth of records when
 * paced, so a slow rate is a steady trickle rather than a burst followed by a long pause.
 */
export function pageSize(batchSize: number, ratePerSecond: number | null): number {
  if (ratePerSecond === null) return batchSize;
  return Math.max(1, Math.min(batchSize, Math.ceil(ratePerSecond)));
}
