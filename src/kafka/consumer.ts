import { CODES, KafkaConsumer, type LibrdKafkaError, type Message, type TopicPartition, type TopicPartitionOffset } from 'node-rdkafka';
import type { Logger } from 'pino';
import { RelayError, errorMessage } from '../errors';
import type { ConsumedMessage } from '../sink/batch-preparation';
import { kafkaCodeName } from './kafka-errors';
import type { RdkafkaConfig } from './librdkafka-config';

const ERR = CODES.ERRORS as Record<string, number>;

/** What the owner of the partitions does when the group moves them (cooperative protocol). */
export interface RebalanceHandler {
  /** Partitions newly assigned to this consumer (already assigned when called). */
  assigned(partitions: readonly TopicPartition[]): void;
  /**
   * Partitions leaving this consumer: the promise settles once their work in flight is finished
   * and its offsets committed; only then are they given up, so the next owner starts after them.
   */
  revoking(partitions: readonly TopicPartition[]): Promise<void>;
}

export interface SinkConsumerOptions {
  readonly config: RdkafkaConfig;
  readonly handler: RebalanceHandler;
  readonly logger: Logger;
  readonly connectTimeoutMs?: number;
}

/**
 * node-rdkafka's KafkaConsumer for the sink: subscribe with the cooperative-sticky assignor and a
 * rebalance callback doing incremental assign/unassign; fetch in batches; commit explicit
 * offsets (the sink commits only what its transactions applied).
 */
export class SinkConsumer {
  private readonly consumer: KafkaConsumer;
  private connected = false;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: SinkConsumerOptions) {
    // node-rdkafka gives librdkafka a topic configuration of its own, which replaces topic-level
    // defaults set globally: auto.offset.reset only works there.
    const { 'auto.offset.reset': offsetReset, ...global } = options.config;
    this.consumer = new KafkaConsumer(
      {
        ...(global as Record<string, unknown>),
        rebalance_cb: (err: LibrdKafkaError, assignment: TopicPartition[]) => this.onRebalance(err, assignment),
        offset_commit_cb: (err: LibrdKafkaError | null) => {
          // Asynchronous commits that fail (a rebalance in progress) are covered by the next one.
          if (err) options.logger.debug({ code: kafkaCodeName(err), err: err.message }, 'offset commit failed');
        },
      } as never,
      (offsetReset === undefined ? {} : { 'auto.offset.reset': offsetReset }) as never,
    );
    this.consumer.on('event.error', (err: LibrdKafkaError) => options.logger.warn({ code: kafkaCodeName(err), err: err.message }, 'Kafka consumer error'));
    this.consumer.on('disconnected', () => (this.connected = false));
  }

  isConnected(): boolean {
    return this.connected && this.consumer.isConnected();
  }

  async start(topics: readonly string[]): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      this.consumer.connect({ timeout: this.options.connectTimeoutMs ?? 15_000 }, (err) =>
        err ? reject(new RelayError('KAFKA_UNAVAILABLE', `cannot connect to Kafka: ${err.message}`, { cause: err, retriable: true })) : resolve(),
      ),
    );
    this.connected = true;
    this.consumer.subscribe([...topics]);
  }

  /**
   * Waits up to `waitMs` for a first message, then takes what librdkafka has already fetched, up
   * to `max` messages in all: a batch is whatever arrived since the previous one.
   */
  async fetch(max: number, waitMs: number): Promise<ConsumedMessage[]> {
    const first = await this.consume(1, waitMs);
    if (first.length === 0 || max <= 1) return first;
    return [...first, ...(await this.consume(max - 1, 0))];
  }

  private consume(count: number, timeoutMs: number): Promise<ConsumedMessage[]> {
    this.consumer.setDefaultConsumeTimeout(timeoutMs);
    return new Promise((resolve, reject) => {
      this.consumer.consume(count, (err, messages) => {
        if (err) reject(new RelayError('KAFKA_UNAVAILABLE', `consume failed: ${kafkaCodeName(err)}: ${err.message}`, { cause: err, retriable: true }));
        else resolve(messages.map(toConsumed));
      });
    });
  }

  /** Asynchronous commit of the next offsets to read (offset = last applied + 1). */
  commit(offsets: readonly TopicPartitionOffset[]): void {
    if (offsets.length === 0 || !this.isConnected()) return;
    try {
      this.consumer.commit([...offsets]);
    } catch (err) {
      this.options.logger.debug({ err: errorMessage(err) }, 'offset commit not sent');
    }
  }

  /** Synchronous commit (on revoke and at shutdown): returns once the coordinator has it, or throws. */
  commitSync(offsets: readonly TopicPartitionOffset[]): void {
    if (offsets.length === 0) return;
    this.consumer.commitSync([...offsets]);
  }

  pause(partitions: readonly TopicPartition[]): void {
    this.consumer.pause([...partitions]);
  }

  /** The partition's high watermark as last fetched (undefined before the first fetch). */
  highWatermark(topic: string, partition: number): number | undefined {
    try {
      return this.consumer.getWatermarkOffsets(topic, partition).highOffset;
    } catch {
      return undefined;
    }
  }

  /** Leaves the group (revoking every partition through the handler) and disconnects. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      if (!this.connected) return resolve();
      this.consumer.disconnect(() => resolve());
    });
    return this.stopping;
  }

  private onRebalance(err: LibrdKafkaError, assignment: TopicPartition[]): void {
    const partitions = assignment.map((p) => ({ topic: p.topic, partition: p.partition }));
    if (err.code === ERR['ERR__ASSIGN_PARTITIONS']) {
      this.safely('incrementalAssign', () => this.consumer.incrementalAssign(partitions));
      this.options.handler.assigned(partitions);
    } else if (err.code === ERR['ERR__REVOKE_PARTITIONS']) {
      void this.options.handler
        .revoking(partitions)
        .catch((e: unknown) => this.options.logger.warn({ err: errorMessage(e) }, 'finishing revoked partitions failed'))
        .finally(() => this.safely('incrementalUnassign', () => this.consumer.incrementalUnassign(partitions)));
    } else {
      this.options.logger.error({ code: kafkaCodeName(err), err: err.message }, 'rebalance error');
    }
  }

  private safely(what: string, action: () => void): void {
    try {
      action();
    } catch (err) {
      // Only fails when the client is already gone (shutdown); nothing to give back then.
      this.options.logger.debug({ err: errorMessage(err) }, `${what} failed`);
    }
  }
}

function toConsumed(m: Message): ConsumedMessage {
  const key = m.key === undefined || m.key === null ? null : m.key.toString();
  return { topic: m.topic, partition: m.partition, offset: m.offset, key, value: m.value, timestamp: m.timestamp };
}
