import { Producer, type DeliveryReport, type LibrdKafkaError, type Metadata } from 'node-rdkafka';
import type { OutgoingMessage } from '../domain/message-builder';
import { RelayError, errorMessage } from '../errors';
import { sleep } from '../lifecycle/sleep';
import { BatchDeliveries, DeliveryTracker, type DeliveryOutcome } from './delivery-tracker';
import { QUEUE_FULL_CODE, isTransportError, kafkaCode, kafkaCodeName, messageError } from './kafka-errors';
import type { RdkafkaConfig } from './librdkafka-config';
import { PartitionMetadata } from './partition-metadata';
import { connectProducer } from './producer-connect';
import { StallWatchdog, anyBrokerUp } from './stall-watchdog';

export type { DeliveryOutcome } from './delivery-tracker';

export interface PublisherOptions {
  config: RdkafkaConfig;
  metadataRefreshMs: number;
  /** How often librdkafka's delivery reports are collected while messages are in flight. */
  pollIntervalMs?: number;
  connectTimeoutMs?: number;
  /** Called once when the producer hits a fatal error (idempotence broken): the process must restart. */
  onFatal?: (err: RelayError) => void;
  onStats?: (stats: unknown) => void;
  /**
   * The stall watchdog (stall-watchdog.ts): after this long without any broker UP while a broker
   * of the list accepts TCP connections, `onStalled` is called: the process must restart. 0 = off.
   */
  stallRestartMs?: number;
  onStalled?: (err: RelayError) => void;
}

const QUEUE_FULL_WAIT_MS = 5;
const IDLE_POLL_INTERVAL_MS = 1000;
const DEFAULT_POLL_INTERVAL_MS = 2;
const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
const METADATA_TIMEOUT_MS = 10_000;

/**
 * node-rdkafka producer wrapper: many messages in flight at once, each settled by its delivery
 * report (delivery-tracker.ts). `enqueueAll()` enqueues a group of messages synchronously (so
 * enqueue order is Kafka order per partition: the idempotent producer keeps it across retries) and
 * hands back a promise of every report. Partition counts come from partition-metadata.ts, and the
 * stall watchdog watches the statistics.
 */
export class KafkaPublisher {
  private producer: Producer | undefined;
  private readonly deliveries: DeliveryTracker;
  private readonly partitions: PartitionMetadata;
  private readonly watchdog: StallWatchdog;
  private idlePollTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private connected = false;
  /** From the latest statistics: undefined until the first blob arrives. */
  private brokersUp: boolean | undefined;
  private starting: Promise<void> | undefined;

  constructor(private readonly options: PublisherOptions) {
    this.deliveries = new DeliveryTracker(() => this.producer?.poll(), options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    this.partitions = new PartitionMetadata((topic) => this.fetchMetadata(topic), options.metadataRefreshMs);
    this.watchdog = new StallWatchdog({
      brokers: String(options.config['metadata.broker.list'] ?? ''),
      stallRestartMs: options.stallRestartMs ?? 0,
      onStalled: options.onStalled,
    });
  }

  /** Messages handed to librdkafka and not yet reported. */
  get inflight(): number {
    return this.deliveries.size;
  }

  /**
   * Connected and, as far as the latest statistics tell, at least one broker is UP. librdkafka
   * keeps the client "connected" through a broker outage; the statistics show the truth.
   */
  isConnected(): boolean {
    return this.connected && this.producer?.isConnected() === true && this.brokersUp !== false;
  }

  /**
   * Creates the producer and connects it (a metadata request within the connect timeout). A failed
   * start leaves nothing behind (node-rdkafka tears the client of a failed attempt down itself) and
   * may be called again: `run` retries it while it waits for Kafka. Concurrent callers share one try.
   */
  start(): Promise<void> {
    this.starting ??= this.open().catch((err: unknown) => {
      this.starting = undefined;
      throw err;
    });
    return this.starting;
  }

  private async open(): Promise<void> {
    const statsWanted = this.options.onStats !== undefined || this.watchdog.enabled;
    const producer = new Producer({
      ...(this.options.config as Record<string, unknown>),
      dr_cb: true,
      ...(statsWanted && this.options.config['statistics.interval.ms'] === undefined ? { 'statistics.interval.ms': 5000 } : {}),
    } as never);
    // Events of a client from a failed attempt are ignored: only the current one speaks for us.
    const current = (): boolean => this.producer === producer;
    this.producer = producer;
    producer.on('delivery-report', (err: LibrdKafkaError, report: DeliveryReport) => this.deliveries.onReport(err, report));
    producer.on('event.error', (err: LibrdKafkaError) => {
      if (err.isFatal === true && current()) {
        this.options.onFatal?.(new RelayError('KAFKA_UNAVAILABLE', `fatal producer error: ${kafkaCodeName(err)}: ${err.message}`, { cause: err }));
      }
    });
    if (statsWanted) {
      producer.on('event.stats', (event: { message: string }) => {
        if (!current()) return;
        try {
          const stats: unknown = JSON.parse(event.message);
          this.brokersUp = anyBrokerUp(stats);
          this.watchdog.observe(this.brokersUp === true);
          this.options.onStats?.(stats);
        } catch {
          // Statistics are best effort; a malformed blob never disturbs publishing.
        }
      });
    }
    producer.on('disconnected', () => {
      if (current()) this.connected = false;
    });
    try {
      await connectProducer(producer, this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
      this.connected = true;
    } catch (err) {
      this.producer = undefined;
      throw err;
    }
    if (this.stopping !== undefined) {
      // Stopped while this attempt was under way: nothing was sent, so nothing is waited for.
      producer.disconnect();
      return;
    }
    // Errors and statistics arrive only through poll(); while nothing is in flight the fast poll
    // is off, so a slow one keeps them coming (idle gauges stay fresh, fatal errors are seen).
    this.idlePollTimer = setInterval(() => {
      if (this.deliveries.polling) return;
      try {
        producer.poll();
      } catch {
        // Disconnected: stop() clears this timer.
      }
    }, IDLE_POLL_INTERVAL_MS);
    this.idlePollTimer.unref();
  }

  /** Flushes what is queued (bounded by timeoutMs), then disconnects. Idempotent. */
  stop(timeoutMs = 10_000): Promise<void> {
    this.stopping ??= this.doStop(timeoutMs);
    return this.stopping;
  }

  private async doStop(timeoutMs: number): Promise<void> {
    const producer = this.producer;
    if (producer === undefined) return;
    if (this.connected) {
      await new Promise<void>((resolve) => {
        try {
          producer.flush(timeoutMs, () => resolve());
        } catch {
          resolve();
        }
      });
      producer.poll();
    }
    this.deliveries.stopPolling();
    clearInterval(this.idlePollTimer);
    // Anything still unreported is failed as transport-level: its rows are left pending, not marked.
    this.deliveries.failAll((topic) => new RelayError('KAFKA_UNAVAILABLE', `producer stopped before ${topic} acknowledged the message`, { retriable: true }));
    // A producer that never connected (its attempt failed, or is still under way when a signal
    // stops a waiting relay) is torn down by node-rdkafka when its connect attempt ends;
    // disconnecting here would wait for that attempt (up to the connect timeout).
    if (!this.connected) return;
    await new Promise<void>((resolve) => {
      try {
        producer.disconnect(timeoutMs, () => resolve());
      } catch {
        resolve();
      }
    });
    this.connected = false;
  }

  /**
   * Enqueues every message now and returns once they are all in librdkafka's queue; `settled`
   * resolves with one outcome per message, in order, when every delivery report is in. Callers
   * that need Kafka order to follow their own order only have to serialize calls to this method.
   * A message librdkafka refuses at once (too large, unknown partition) gets its error without
   * affecting the others; a full local queue makes this wait, never drop.
   */
  async enqueueAll(messages: readonly OutgoingMessage[]): Promise<{ settled: Promise<DeliveryOutcome[]> }> {
    const producer = this.requireProducer();
    const batch = new BatchDeliveries(messages.length);
    let queued = 0;
    try {
      while (queued < messages.length) {
        const m = messages[queued] as OutgoingMessage;
        const opaque = this.deliveries.takeOpaque();
        try {
          producer.produce(m.topic, m.partition, m.value, m.key, null, opaque);
        } catch (err) {
          if (kafkaCode(err) === QUEUE_FULL_CODE) {
            // Back-pressure: let delivery reports drain the local queue, then try again.
            this.deliveries.ensurePolling();
            producer.poll();
            await sleep(QUEUE_FULL_WAIT_MS);
            continue;
          }
          if (isTransportError(err) || !this.isConnected()) {
            throw new RelayError('KAFKA_UNAVAILABLE', `produce failed: ${kafkaCodeName(err)}: ${errorMessage(err)}`, { cause: err, retriable: true });
          }
          batch.settle(queued, messageError(err, m.topic, 'produce'));
          queued += 1;
          continue;
        }
        this.deliveries.track(opaque, batch, queued, m.topic);
        queued += 1;
      }
    } catch (err) {
      // Messages already queued will still be sent: the caller must not give its rows up (and let
      // another relay publish newer states) before they are delivered or have failed.
      this.deliveries.ensurePolling();
      batch.skipFrom(queued);
      await batch.settled;
      throw err;
    }
    this.deliveries.ensurePolling();
    return { settled: batch.settled };
  }

  /** Partition counts for the given topics, refreshed from broker metadata when stale. */
  refreshPartitions(topics: Iterable<string>): Promise<void> {
    return this.partitions.refresh(topics);
  }

  /** Synchronous lookup after refreshPartitions(); throws for a topic that was not refreshed. */
  partitionCount(topic: string): number {
    return this.partitions.count(topic);
  }

  private fetchMetadata(topic: string): Promise<Metadata> {
    const producer = this.requireProducer();
    return new Promise<Metadata>((resolve, reject) => {
      producer.getMetadata({ topic, timeout: METADATA_TIMEOUT_MS }, (err, data) => (err ? reject(err) : resolve(data)));
    });
  }

  private requireProducer(): Producer {
    if (this.producer === undefined || this.stopping !== undefined) {
      throw new RelayError('KAFKA_UNAVAILABLE', 'the Kafka producer is not running', { retriable: true });
    }
    return this.producer;
  }
}
