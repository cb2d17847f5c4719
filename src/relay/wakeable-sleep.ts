/** Sleeps that can be cut short all at once (a NOTIFY wake-up, or shutdown). */
export class WakeableSleep {
  private readonly sleepers = new Set<() => void>();
  private closed = false;

  /** Resolves after `ms`, at the next wakeAll(), or at once after close(). */
  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.sleepers]) wake();
  }

  /** Wakes every sleeper and makes later sleeps return at once: nothing sleeps through a stop. */
  close(): void {
    this.closed = true;
    this.wakeAll();
  }
}
