import type { Logger } from 'pino';
import { WakeableSleep } from '../lifecycle/sleep';

export interface RetentionOptions {
  readonly olderThanMs: number;
  readonly batchSize: number;
  /** Pause between delete statements, so retention never competes with publishing for long. */
  readonly pauseMs: number;
}

export interface RetentionStore {
  deletePublished(olderThanMs: number, limit: number): Promise<number>;
}

/**
 * Deletes published rows older than a limit, in small batches with pauses. Never touches an
 * unpublished row (the statement only matches `published_at < limit`). `stop()` ends it between two
 * batches: every batch is its own statement, so an interruption leaves nothing half-done.
 */
export class OutboxRetention {
  private readonly sleeper = new WakeableSleep();
  private stopped = false;
  private schedule: Promise<void> | undefined;

  constructor(
    private readonly store: RetentionStore,
    private readonly options: RetentionOptions,
    private readonly logger: Logger,
  ) {}

  /** One full run; `onBatch` sees the running total after each batch. Returns rows deleted. */
  async runOnce(onBatch?: (deletedSoFar: number) => void): Promise<number> {
    let total = 0;
    while (!this.stopped) {
      const deleted = await this.store.deletePublished(this.options.olderThanMs, this.options.batchSize);
      total += deleted;
      onBatch?.(total);
      if (deleted < this.options.batchSize) break;
      await this.sleeper.sleep(this.options.pauseMs);
    }
    return total;
  }

  /** Runs `runOnce` every `intervalMs` until stopped (the in-daemon schedule). */
  start(intervalMs: number): void {
    this.schedule ??= (async () => {
      while (!this.stopped) {
        try {
          const deleted = await this.runOnce();
          this.logger.info({ deleted, olderThanMs: this.options.olderThanMs }, 'retention: deleted published rows');
        } catch (err) {
          this.logger.warn({ err }, 'retention run failed; trying again at the next interval');
        }
        await this.sleeper.sleep(intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper.close();
    await this.schedule;
  }
}
