/** Sleeps that can be cut short all at once (a NOTIFY wake-up, or shutdown). */
export class WakeableSleep {
  private readonly sleepers = new Set<(woken: boolean) => void>();
  private closed = false;

  /** Resolves after `ms` (false), or at the next wakeAll() or at once after close() (true: woken). */
  sleep(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (woken: boolean): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve(woken);
      };
      const timer = setTimeout(() => done(false), ms);
      this.sleepers.add(done);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.sleepers]) wake(true);
  }

  /** Wakes every sleeper and makes later sleeps return at once: nothing sleeps through a stop. */
  close(): void {
    this.closed = true;
    this.wakeAll();
  }
}

/** A plain pause (no wake-up): retry pauses inside one operation. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
