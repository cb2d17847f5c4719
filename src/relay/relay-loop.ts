import type { Logger } from 'pino';
import { MAX_ERROR_BACKOFF_MS } from '../config/settings-schema';
import type { TopicConfig } from '../config/topics-types';
import { errorMessage } from '../errors';
import { idlePauseMs } from '../domain/idle-pause';
import { WakeableSleep } from '../lifecycle/sleep';
import { runBatch, type BatchDeps } from './batch';
import { safely } from './relay-events';

export interface RelayLoopOptions {
  readonly topics: readonly TopicConfig[];
  /** Batches in flight at once; each worker runs one batch at a time. */
  readonly workers: number;
  readonly pollIntervalMs: number;
  readonly errorBackoffMs: number;
  /** Resolve `idle` and stop once nothing is pending and nothing is in flight. */
  readonly exitWhenIdle: boolean;
  /** May a worker start a claim now (relay/active-slot.ts)? Always when absent. wake() after it turns true. */
  readonly mayClaim?: () => boolean;
}

/** A standby worker's longest wait between looks at mayClaim (a wake() ends it early). */
const STANDBY_RECHECK_MS = 1000;

/**
 * The relay's state machine, per worker: claiming → (publishing → marking) → claiming again at once
 * while claims come back full; after a full round of topics that all came back empty: idle
 * (sleeping `pollIntervalMs`, woken early by `wake()` or stop); after an abandoned batch: backing
 * off (doubling up to 30 s); standing by (no active slot: no claim until one is taken); stopping:
 * the current batch finishes, no new claim starts.
 *
 * Several workers give several batches in flight: one claims while another waits for delivery
 * reports. Topics are taken round-robin so a busy topic cannot starve the others.
 */
export class RelayLoop {
  private readonly sleeper = new WakeableSleep();
  private running: Promise<void> | undefined;
  private stopRequested = false;
  private cursor = 0;
  /** Per worker: its last full round of topics came back empty (for exitWhenIdle). */
  private idleWorkers: boolean[] = [];
  /** Batches that claimed rows and have not finished (their rows, or rows they write, may follow). */
  private batchesWithRows = 0;
  private idleResolve: (() => void) | undefined;
  readonly idle: Promise<void>;

  constructor(
    private readonly deps: BatchDeps,
    private readonly options: RelayLoopOptions,
    private readonly logger: Logger,
  ) {
    this.idle = new Promise((resolve) => (this.idleResolve = resolve));
  }

  start(): void {
    if (this.running !== undefined) return;
    const count = Math.max(1, this.options.workers);
    this.idleWorkers = Array.from({ length: count }, () => false);
    const workers = Array.from({ length: count }, (_, i) => this.work(i));
    this.running = Promise.all(workers).then(() => undefined);
  }

  /** Wakes sleeping workers (a NOTIFY arrived, or a test wants a pass now). */
  wake(): void {
    this.sleeper.wakeAll();
  }

  /** Stops claiming; resolves when every worker has finished its current batch. Idempotent. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.sleeper.close();
    await this.running;
  }

  get stopping(): boolean {
    return this.stopRequested;
  }

  private nextTopic(): TopicConfig {
    const topic = this.options.topics[this.cursor % this.options.topics.length] as TopicConfig;
    this.cursor = (this.cursor + 1) % this.options.topics.length;
    return topic;
  }

  private async work(worker: number): Promise<void> {
    let emptyInARow = 0;
    let emptyRounds = 0;
    let backoffMs = this.options.errorBackoffMs;
    while (!this.stopRequested) {
      if (this.options.mayClaim?.() === false) {
        // Standing by: no claim, and not idle either (a standby has not seen the outbox empty).
        this.idleWorkers[worker] = false;
        await this.sleeper.sleep(STANDBY_RECHECK_MS);
        continue;
      }
      const topic = this.nextTopic();
      let progressed = false;
      let trouble = false;
      let claimedRows = false;
      try {
        const result = await runBatch(this.deps, topic, () => {
          claimedRows = true;
          this.batchesWithRows += 1;
        });
        // Rows held back (a busy resource, a frozen relay) come back with every claim: they are
        // not progress, or the worker would claim them again in a tight loop.
        progressed = result.attempted > result.heldBack;
        trouble = result.released > 0;
      } catch (err) {
        trouble = true;
        this.logger.error({ worker, topic: topic.name, err }, `batch abandoned: ${errorMessage(err)}`);
      } finally {
        if (claimedRows) this.batchesWithRows -= 1;
      }
      if (trouble || progressed) this.idleWorkers[worker] = false;
      if (trouble) {
        emptyInARow = 0;
        await this.sleeper.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_ERROR_BACKOFF_MS);
        continue;
      }
      backoffMs = this.options.errorBackoffMs;
      if (progressed) {
        emptyInARow = 0;
        emptyRounds = 0;
        continue;
      }
      emptyInARow += 1;
      if (emptyInARow < this.options.topics.length) continue;
      // A full round of empty claims: one pass done.
      emptyInARow = 0;
      safely(() => this.deps.events.passFinished());
      // Idle when every worker's last full round was empty and no batch has rows. (Waiting for a
      // moment when no worker is inside a claim could take forever with slow claims and several
      // workers; a claim that finds nothing holds nothing.)
      this.idleWorkers[worker] = true;
      if (this.options.exitWhenIdle && this.batchesWithRows === 0 && this.idleWorkers.every(Boolean)) {
        this.stopRequested = true;
        this.sleeper.wakeAll();
        this.idleResolve?.();
        break;
      }
      emptyRounds += 1;
      // A wake-up (NOTIFY) ends the sleep early and starts the pauses over.
      if (await this.sleeper.sleep(idlePauseMs(emptyRounds, this.options.pollIntervalMs))) emptyRounds = 0;
    }
  }
}
