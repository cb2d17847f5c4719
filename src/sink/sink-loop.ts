import type { Logger } from 'pino';
import type { SinkTopicConfig } from '../config/sink-types';
import { errorMessage } from '../errors';
import { WakeableSleep } from '../relay/wakeable-sleep';
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
  /** Messages taken per round, over all partitions. */
  readonly maxBatchMessages: number;
  /** How long a round waits for a first message. */
  readonly pollWaitMs: number;
  /** Partition batches applied at once (each holds a database connection). */
  readonly concurrency: number;
  readonly errorBackoffMs: number;
}

const MAX_ERROR_BACKOFF_MS = 30_000;

/**
 * The sink's state machine: fetching (what arrived since the last round, up to maxBatchMessages)
 * → applying (one transaction per partition batch, several partitions at once) → committing (the
 * offsets after what committed, asynchronously) → fetching again. A batch that failed on the
 * database or broker is applied again after a backoff (doubling up to 30 s), keeping its
 * partition's order; the partition is left alone only when it is revoked or the sink stops, and
 * then nothing of it is committed. Stopping: the round in flight finishes, every applied offset
 * is committed synchronously, and the caller closes the consumer (which revokes the partitions).
 *
 * Rebalances (RebalanceHandler): assigned partitions start empty; a revoked partition takes no
 * new batch, its batch in flight finishes, its offsets are committed, and only then is it given up.
 */
export class SinkLoop {
  readonly partitions = new PartitionStates();
  private readonly sleeper = new WakeableSleep();
  private running: Promise<void> | undefined;
  private stopRequested = false;

  constructor(
    private readonly deps: SinkLoopDeps,
    private readonly options: SinkLoopOptions,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  /** Finishes the round in flight and commits every applied offset. Idempotent, safe before start. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.sleeper.close();
    await this.running;
    this.commitSync(this.partitions.all());
  }

  assigned(partitions: ReadonlyArray<{ topic: string; partition: number }>): void {
    for (const p of partitions) this.partitions.assign(p.topic, p.partition);
    this.deps.observer.rebalanced('assigned', partitions.length);
    this.deps.logger.info({ partitions: partitions.map((p) => `${p.topic}/${p.partition}`) }, 'partitions assigned');
  }

  async revoking(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<void> {
    const states = partitions.map((p) => this.partitions.get(p.topic, p.partition)).filter((s): s is PartitionState => s !== undefined);
    for (const s of states) s.revoking = true;
    this.sleeper.wakeAll();
    await Promise.all(states.map((s) => s.inflight));
    // At shutdown stop() has committed everything already, and the closing consumer refuses commits.
    if (!this.stopRequested) this.commitSync(states);
    for (const p of partitions) this.partitions.remove(p.topic, p.partition);
    this.deps.observer.rebalanced('revoked', partitions.length);
    this.deps.logger.info({ partitions: partitions.map((p) => `${p.topic}/${p.partition}`) }, 'partitions revoked (applied offsets committed)');
  }

  private async run(): Promise<void> {
    let backoffMs = this.options.errorBackoffMs;
    while (!this.stopRequested) {
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
      const batches = this.byPartition(messages);
      await this.applyAll(batches);
      this.deps.consumer.commit(this.partitions.takeUncommitted());
      this.deps.observer.roundFinished();
    }
  }

  private byPartition(messages: readonly ConsumedMessage[]): Array<{ state: PartitionState; messages: ConsumedMessage[] }> {
    const batches = new Map<PartitionState, ConsumedMessage[]>();
    for (const m of messages) {
      // A partition revoked (or stopped) after the fetch: its messages are left to the next owner.
      const state = this.partitions.accepts(m.topic, m.partition);
      if (state === undefined) continue;
      // Offsets below what is applied were fetched before a retry's seek; they are applied already.
      if (state.nextOffset !== undefined && m.offset < state.nextOffset) continue;
      const list = batches.get(state) ?? [];
      list.push(m);
      batches.set(state, list);
    }
    return [...batches.entries()].map(([state, list]) => ({ state, messages: list }));
  }

  private async applyAll(batches: Array<{ state: PartitionState; messages: ConsumedMessage[] }>): Promise<void> {
    const queue = [...batches];
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        const { state, messages } = next;
        const inflight = this.applyWithRetries(state, messages);
        state.inflight = inflight;
        await inflight;
        state.inflight = undefined;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.options.concurrency, queue.length)) }, () => worker()));
  }

  /** Applies one partition batch until it commits, or until its partition is revoked or the sink stops. */
  private async applyWithRetries(state: PartitionState, messages: readonly ConsumedMessage[]): Promise<void> {
    const topic = this.deps.topics.get(state.topic);
    if (topic === undefined) return;
    let backoffMs = this.options.errorBackoffMs;
    for (;;) {
      try {
        const result = await this.deps.apply(messages, topic);
        this.record(state, result);
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
