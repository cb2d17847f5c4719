import type { Logger } from 'pino';
import type { SinkTopicConfig } from '../config/sink-types';
import { errorMessage } from '../errors';
import { WakeableSleep } from '../lifecycle/sleep';
import type { ConsumedMessage } from './batch-preparation';
import type { BatchResult } from './partition-batch';
import { isRetriable } from './partition-batch';
import { PartitionStates, type PartitionState, type TopicPartitionOffset } from './partition-state';
import type { SinkObserver } from './sink-observer';

/** The consumer as the loop uses it (kafka/consumer.ts). */
export interface LoopConsumer {
  fetch(max: number, waitMs: number): Promise<ConsumedMessage[]>;
  commit(offsets: readonly TopicPartitionOffset[]): void;
  commitSync(offsets: readonly TopicPartitionOffset[]): void;
  pause(partitions: ReadonlyArray<{ topic: string; partition: number }>): void;
}

export interface SinkLoopDeps {
  readonly consumer: LoopConsumer;
  readonly topics: ReadonlyMap<string, SinkTopicConfig>;
  readonly apply: (messages: readonly ConsumedMessage[], topic: SinkTopicConfig) => Promise<BatchResult>;
  readonly observer: SinkObserver;
  readonly logger: Logger;
}

export interface SinkLoopOptions {
  /** Messages taken per fetch, and the most one partition batch holds. */
  readonly maxBatchMessages: number;
  /** How long a fetch waits for a first message. */
  readonly pollWaitMs: number;
  /** Partition batches applied at once (each holds a database connection). */
  readonly concurrency: number;
  readonly errorBackoffMs: number;
  /** How often applied offsets are committed (asynchronously). */
  readonly commitIntervalMs?: number;
}

const MAX_ERROR_BACKOFF_MS = 30_000;
const DEFAULT_COMMIT_INTERVAL_MS = 100;

/**
 * The sink's two loops. Fetching: take what arrived (up to maxBatchMessages), append each
 * message to its partition's queue, and fetch again, unless two rounds' worth is already queued.
 * Applying, per partition: as soon as a partition has messages and no batch in flight, and one of
 * `concurrency` slots is free, its whole queue (up to maxBatchMessages) becomes a batch, applied in
 * one transaction. A partition's batches are strictly sequential (its order is kept), partitions
 * never wait for one another, and a message is applied as soon as its partition is free. A batch
 * that failed on the database or broker is applied again after a backoff (doubling up to 30 s)
 * until it commits, or until its partition is revoked or the sink stops: then nothing of it is
 * committed. Applied offsets are committed asynchronously every commitIntervalMs.
 *
 * Rebalances (RebalanceHandler): an assigned partition starts empty; a revoked one loses its queue,
 * its batch in flight finishes, its offsets are committed synchronously, and only then is it given
 * up. Stopping: no more fetching, batches in flight finish, every applied offset is committed
 * synchronously; the caller then closes the consumer.
 */
export class SinkLoop {
  readonly partitions = new PartitionStates();
  private readonly sleeper = new WakeableSleep();
  private running: Promise<void> | undefined;
  private stopRequested = false;
  private freeSlots: number;
  private queued = 0;
  /** Where the next scheduling pass starts, so that no partition waits behind the others. */
  private cursor = 0;
  private commitTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: SinkLoopDeps,
    private readonly options: SinkLoopOptions,
  ) {
    this.freeSlots = Math.max(1, options.concurrency);
  }

  start(): void {
    if (this.running !== undefined) return;
    this.running = this.fetchLoop();
    this.commitTimer = setInterval(() => this.deps.consumer.commit(this.partitions.takeUncommitted()), this.options.commitIntervalMs ?? DEFAULT_COMMIT_INTERVAL_MS);
  }

  /** Stops fetching, lets batches in flight finish, commits every applied offset. Idempotent, safe before start. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.sleeper.close();
    if (this.commitTimer !== undefined) clearInterval(this.commitTimer);
    await this.running;
    const states = this.partitions.all();
    for (const s of states) this.dropQueue(s);
    await Promise.all(states.map((s) => s.inflight));
    this.commitSync(states);
  }

  assigned(partitions: ReadonlyArray<{ topic: string; partition: number }>): void {
    for (const p of partitions) this.partitions.assign(p.topic, p.partition);
    this.deps.observer.rebalanced('assigned', partitions.length);
    this.deps.logger.info({ partitions: partitions.map((p) => `${p.topic}/${p.partition}`) }, 'partitions assigned');
  }

  async revoking(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    const states = partitions.map((p) => this.partitions.get(p.topic, p.partition)).filter((s): s is PartitionState => s !== undefined);
    for (const s of states) {
      s.revoking = true;
      this.dropQueue(s);
    }
    this.sleeper.wakeAll();
    await Promise.all(states.map((s) => s.inflight));
    // At shutdown stop() has committed everything already, and the closing consumer refuses commits.
    if (!this.stopRequested) this.commitSync(states);
    for (const p of partitions) this.partitions.remove(p.topic, p.partition);
    this.deps.observer.rebalanced('revoked', partitions.length);
    this.deps.logger.info({ partitions: partitions.map((p) => `${p.topic}/${p.partition}`) }, 'partitions revoked (applied offsets committed)');
  }

  private async fetchLoop(): Promise<void> {
    let backoffMs = this.options.errorBackoffMs;
    while (!this.stopRequested) {
      // Enough queued for the appliers: wait until a batch finishes (or a slow round passes).
      if (this.queued >= 2 * this.options.maxBatchMessages) {
        await this.sleeper.sleep(this.options.pollWaitMs);
        this.deps.observer.roundFinished();
        continue;
      }
      let messages: ConsumedMessage[];
      try {
        messages = await this.deps.consumer.fetch(this.options.maxBatchMessages, this.options.pollWaitMs);
        backoffMs = this.options.errorBackoffMs;
      } catch (err) {
        this.deps.logger.warn({ err: errorMessage(err), backoffMs }, 'fetching from Kafka failed; trying again');
        this.deps.observer.roundFinished();
        await this.sleeper.sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, MAX_ERROR_BACKOFF_MS);
        continue;
      }
      this.enqueue(messages);
      this.deps.observer.roundFinished();
    }
  }

  private enqueue(messages: readonly ConsumedMessage[]): void {
    for (const m of messages) {
      // A partition revoked or stopped after the fetch: its messages are left to the next owner.
      const state = this.partitions.accepts(m.topic, m.partition);
      if (state === undefined) continue;
      if (state.nextOffset !== undefined && m.offset < state.nextOffset) continue;
      state.firstFetched ??= m.offset;
      state.queue.push(m);
      this.queued += 1;
    }
    this.schedule();
  }

  /** Starts a batch for every partition that has messages, no batch in flight, and a free slot. */
  private schedule(): void {
    const all = this.partitions.all();
    for (let i = 0; i < all.length && this.freeSlots > 0; i++) {
      const index = (this.cursor + i) % all.length;
      const state = all[index] as PartitionState;
      if (state.inflight !== undefined || state.queue.length === 0 || state.revoking || state.stopped) continue;
      this.cursor = index + 1;
      const batch = state.queue.splice(0, this.options.maxBatchMessages);
      this.queued -= batch.length;
      this.freeSlots -= 1;
      state.inflight = this.applyWithRetries(state, batch).finally(() => {
        state.inflight = undefined;
        this.freeSlots += 1;
        this.sleeper.wakeAll();
        if (!this.stopRequested) this.schedule();
      });
    }
  }

  private dropQueue(state: PartitionState): void {
    this.queued -= state.queue.length;
    state.queue = [];
  }

  /** Applies one partition batch until it commits, or until its partition is revoked or the sink stops. */
  private async applyWithRetries(state: PartitionState, messages: readonly ConsumedMessage[]): Promise<void> {
    const topic = this.deps.topics.get(state.topic);
    if (topic === undefined) return;
    let backoffMs = this.options.errorBackoffMs;
    for (;;) {
      try {
        this.record(state, await this.deps.apply(messages, topic));
        return;
      } catch (err) {
        if (!isRetriable(err)) this.deps.logger.error({ err }, 'applying a batch failed unexpectedly; trying again');
        else this.deps.logger.warn({ err: errorMessage(err), topic: state.topic, partition: state.partition, backoffMs }, 'batch rolled back; applying it again');
        this.deps.observer.batchRetried(state.topic, errorMessage(err));
        this.deps.observer.roundFinished();
        if (state.revoking || this.stopRequested) return;
        await this.sleeper.sleep(backoffMs);
        if (state.revoking || this.stopRequested) return;
        backoffMs = Math.min(backoffMs * 2, MAX_ERROR_BACKOFF_MS);
      }
    }
  }

  private record(state: PartitionState, result: BatchResult): void {
    state.nextOffset = result.nextOffset;
    this.deps.observer.batchApplied(result.report);
    for (const p of result.deadLettered) {
      this.deps.observer.deadLettered(state.topic, p.code);
      this.deps.logger.error(
        { topic: state.topic, partition: state.partition, offset: p.message.offset, key: p.message.key, code: p.code, reason: p.reason },
        'poison message sent to the dead-letter topic',
      );
    }
    const stopped = result.stopped;
    if (stopped !== undefined) {
      state.stopped = true;
      this.dropQueue(state);
      this.deps.consumer.pause([{ topic: state.topic, partition: state.partition }]);
      this.deps.observer.partitionStopped(state.topic, state.partition, stopped.code);
      this.deps.logger.error(
        { topic: state.topic, partition: state.partition, offset: stopped.message.offset, key: stopped.message.key, code: stopped.code, reason: stopped.reason },
        'poison message: partition stopped (on_poison: stop); it resumes from this message when the sink restarts',
      );
    }
  }

  private commitSync(states: readonly PartitionState[]): void {
    const offsets = this.partitions.applied(states);
    try {
      this.deps.consumer.commitSync(offsets);
    } catch (err) {
      // Partitions lost (session timed out) cannot be committed; their next owner re-applies the tail.
      this.deps.logger.warn({ err: errorMessage(err), offsets: offsets.length }, 'committing offsets failed');
    }
  }
}
