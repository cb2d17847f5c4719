import type { Logger } from 'pino';

/** A stop step, run in registration order. */
export interface StopStep {
  readonly name: string;
  readonly stop: () => Promise<void>;
}

export type ShutdownOutcome = 'clean' | 'deadline';

/**
 * Two-phase shutdown with one deadline. Phase one stops the work (the loop finishes its batches in
 * flight: delivery reports, marks, commits); phase two releases resources (producer flush and
 * disconnect, pool end, HTTP server). When the deadline passes first the caller exits non-zero;
 * whatever was still in flight rolls back with the connection and is published again later.
 * `shutdown()` is idempotent: concurrent callers share one promise.
 */
export class ShutdownCoordinator {
  private readonly drainSteps: StopStep[] = [];
  private readonly releaseSteps: StopStep[] = [];
  private running: Promise<ShutdownOutcome> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly graceMs: number,
  ) {}

  /** Phase one: stop taking work and finish what is in flight. */
  onDrain(step: StopStep): void {
    this.drainSteps.push(step);
  }

  /** Phase two: release connections and servers (in registration order). */
  onRelease(step: StopStep): void {
    this.releaseSteps.push(step);
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  shutdown(reason: string): Promise<ShutdownOutcome> {
    this.running ??= this.run(reason);
    return this.running;
  }

  private async run(reason: string): Promise<ShutdownOutcome> {
    const startedAt = Date.now();
    this.logger.info({ reason, graceMs: this.graceMs }, 'shutting down: finishing batches in flight');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), this.graceMs);
    });
    const work = (async (): Promise<'clean'> => {
      for (const step of this.drainSteps) await this.runStep(step);
      for (const step of this.releaseSteps) await this.runStep(step);
      return 'clean';
    })();
    const outcome = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (outcome === 'deadline') {
      this.logger.error({ graceMs: this.graceMs }, 'shutdown deadline passed: stopping hard; rows in flight will be published again');
    } else {
      this.logger.info({ ms: Date.now() - startedAt }, 'shutdown complete');
    }
    return outcome;
  }

  private async runStep(step: StopStep): Promise<void> {
    try {
      await step.stop();
    } catch (err) {
      this.logger.warn({ step: step.name, err }, `stop step ${step.name} failed`);
    }
  }
}
