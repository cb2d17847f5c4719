/** Floor of every period, so a 0 in the settings cannot turn into a hot loop. */
export const MIN_PERIOD_MS = 100;

/**
 * Runs a task at once, then again `periodMs` after each run ends (runs never overlap), until
 * stop(). The start/stop contract of every long-lived component: start() is idempotent, stop() is
 * idempotent, safe before start, shared by concurrent callers, and waits for what `inFlight`
 * returns (the work of a run that may still use a connection).
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly periodMs: number,
    private readonly inFlight: () => Promise<void> | undefined,
  ) {}

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.tick();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      await this.inFlight();
    })();
    return this.stopping;
  }

  private async tick(): Promise<void> {
    await this.run();
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(MIN_PERIOD_MS, this.periodMs));
  }
}
