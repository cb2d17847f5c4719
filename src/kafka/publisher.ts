import { Producer, type DeliveryReport, type LibrdKafkaError, type Metadata } from 'node-rdkafka';
import type { OutgoingMessage } from '../domain/message-builder';
import { anyBrokerAccepts, brokerlessTooLong } from './broker-probe';
import { RelayError, errorMessage } from '../errors';
import { QUEUE_FULL_CODE, isTransportError, kafkaCode, kafkaCodeName, messageError } from './kafka-errors';
import type { RdkafkaConfig } from './librdkafka-config';

/** Outcome of one message: null when the broker acknowledged it. */
export type DeliveryOutcome = RelayError | null;

/**
 * The delivery outcomes of one enqueueAll call: one slot per message, and a single promise that
 * settles once every slot is filled (a promise per message cost measurable time at 10k messages/s).
 */
class BatchDeliveries {
  private readonly outcomes: DeliveryOutcome[];
  private remaining: number;
  private resolve: (outcomes: DeliveryOutcome[]) => void = () => undefined;
  readonly settled: Promise<DeliveryOutcome[]>;

  constructor(count: number) {
    this.outcomes = new Array<DeliveryOutcome>(count).fill(null);
    this.remaining = count;
    this.settled = new Promise((resolve) => (this.resolve = resolve));
    if (count === 0) this.resolve(this.outcomes);
  }

  settle(index: number, outcome: DeliveryOutcome): void {
    this.outcomes[index] = outcome;
    this.remaining -= 1;
    if (this.remaining === 0) this.resolve(this.outcomes);
  }

  /** Messages from `index` on were never queued: nothing will report them. */
  skipFrom(index: number): void {
    for (let i = index; i < this.outcomes.length; i++) this.settle(i, null);
  }
}

/** A queued message waiting for its delivery report (keyed by the opaque given to librdkafka). */
interface PendingDelivery {
  readonly batch: BatchDeliveries;
  readonly index: number;
  readonly topic: string;
}

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
   * Watchdog: after this long without any broker UP (librdkafka statistics) while a broker of the
   * list accepts TCP connections, librdkafka has lost its brokers for good (see
   * metadata.recovery.rebootstrap.trigger.ms in librdkafka-config.ts) and `onStalled` is called:
   * the process must restart. 0 = off.
   */
  stallRestartMs?: number;
  onStalled?: (err: RelayError) => void;
}

const QUEUE_FULL_WAIT_MS = 5;
/** How long a broker must keep accepting connections that the producer does not use before the stall watchdog fires. */
const REACHABLE_GRACE_MS = 30_000;
const IDLE_POLL_INTERVAL_MS = 1000;

/**
 * node-rdkafka producer wrapper: many messages in flight at once, each settled by its delivery
 * report. `publish()` enqueues a group of messages synchronously (so enqueue order is Kafka order
 * per partition: the idempotent producer keeps it across retries) and resolves when every report
 * is in.
 */
export class KafkaPublisher {
  private producer: Producer | undefined;
  private readonly pending = new Map<number, PendingDelivery>();
  private nextOpaque = 1;
  private pollTimer: NodeJS.Timeout | undefined;
  private idlePollTimer: NodeJS.Timeout | undefined;
  private readonly partitions = new Map<string, { count: number; fetchedAt: number }>();
  private stopping: Promise<void> | undefined;
  private connected = false;
  /** From the latest statistics: undefined until the first blob arrives. */
  private brokersUp: boolean | undefined;
  /** The first connection failed: the producer was never usable. */
  private connectFailed = false;
  /** Since when the statistics show no broker UP (undefined while one is). */
  private noBrokerSince: number | undefined;
  private probing = false;
  /** Since when a broker of the list has accepted TCP connections while none was UP for us. */
  private reachableSince: number | undefined;
  private stalledReported = false;

  constructor(private readonly options: PublisherOptions) {}

  get inflight(): number {
    return this.pending.size;
  }

  /**
   * Connected and, as far as the latest statistics tell, at least one broker is UP. librdkafka
   * keeps the client "connected" through a broker outage; the statistics show the truth.
   */
  isConnected(): boolean {
    return this.connected && this.producer?.isConnected() === true && this.brokersUp !== false;
  }

  async start(): Promise<void> {
    if (this.producer !== undefined) return;
    const statsWanted = this.options.onStats !== undefined || (this.options.stallRestartMs ?? 0) > 0;
    const producer = new Producer({
      ...(this.options.config as Record<string, unknown>),
      dr_cb: true,
      ...(statsWanted && this.options.config['statistics.interval.ms'] === undefined ? { 'statistics.interval.ms': 5000 } : {}),
    } as never);
    this.producer = producer;
    producer.on('delivery-report', (err: LibrdKafkaError, report: DeliveryReport) => this.onDelivery(err, report));
    producer.on('event.error', (err: LibrdKafkaError) => {
      if (err.isFatal === true) {
        this.options.onFatal?.(new RelayError('KAFKA_UNAVAILABLE', `fatal producer error: ${kafkaCodeName(err)}: ${err.message}`, { cause: err }));
      }
    });
    if (statsWanted) {
      producer.on('event.stats', (event: { message: string }) => {
        try {
          const stats: unknown = JSON.parse(event.message);
          this.brokersUp = anyBrokerUp(stats);
          this.watchBrokers(this.brokersUp === true);
          this.options.onStats?.(stats);
        } catch {
          // Statistics are best effort; a malformed blob never disturbs publishing.
        }
      });
    }
    producer.on('disconnected', () => {
      this.connected = false;
    });
    await this.connect(producer);
    // Errors and statistics arrive only through poll(); while nothing is in flight the fast poll
    // is off, so a slow one keeps them coming (idle gauges stay fresh, fatal errors are seen).
    this.idlePollTimer = setInterval(() => {
      if (this.pollTimer !== undefined) return;
      try {
        producer.poll();
      } catch {
        // Disconnected: stop() clears this timer.
      }
    }, IDLE_POLL_INTERVAL_MS);
    this.idlePollTimer.unref();
  }

  /**
   * The first connection (a metadata request). librdkafka keeps retrying a broker that refuses the
   * credentials or the TLS handshake, so such a start used to end only at the connect timeout with
   * a bare "broker transport failure". Now an authentication or TLS error ends it at once with the
   * broker's reason, which librdkafka gives only in its log (the error event says "authentication
   * failure"); other failures still wait for the timeout and carry the last reason seen.
   */
  private connect(producer: Producer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let lastFailure = '';
      let settled = false;
      const onLog = (log: { fac?: string; message?: string }): void => {
        if (log.fac === 'FAIL' && typeof log.message === 'string') lastFailure = log.message.replace(/^\[thrd:[^\]]*\]: /, '');
      };
      const onError = (err: LibrdKafkaError): void => {
        if (!/authentication failure|ssl error/i.test(err.message)) return;
        finish(new RelayError('KAFKA_UNAVAILABLE', `cannot connect to Kafka: ${lastFailure || err.message}`, { cause: err }));
      };
      // Error events are only served by poll(), which node-rdkafka allows once the native client
      // exists (before the metadata answer); until then it throws, which is ignored.
      const poller = setInterval(() => {
        try {
          producer.poll();
        } catch {
          // not connected yet
        }
      }, 100);
      const finish = (err: RelayError | undefined): void => {
        if (settled) return;
        settled = true;
        clearInterval(poller);
        producer.removeListener('event.log', onLog);
        producer.removeListener('event.error', onError);
        if (err === undefined) {
          this.connected = true;
          resolve();
        } else {
          this.connectFailed = true;
          reject(err);
        }
      };
      producer.on('event.log', onLog);
      producer.on('event.error', onError);
      producer.connect({ timeout: this.options.connectTimeoutMs ?? 15_000 }, (err) => {
        if (!err) return finish(undefined);
        const reason = lastFailure === '' ? '' : ` (last broker error: ${lastFailure})`;
        finish(new RelayError('KAFKA_UNAVAILABLE', `cannot connect to Kafka: ${err.message}${reason}`, { cause: err, retriable: true }));
      });
    });
  }

  /**
   * The stall watchdog, fed by every statistics blob. librdkafka can end up with no broker at all
   * and not bootstrap again (seen with 2.12.0 after a broker restart: every metadata request
   * failing with "Broker transport failure" for minutes while other clients had reconnected).
   * Batches in flight then never get their delivery reports. When no broker has been UP for
   * stallRestartMs, and a broker of the list has kept accepting TCP connections for
   * REACHABLE_GRACE_MS meanwhile (so this is not an outage, nor a broker just back from one that
   * librdkafka is about to reconnect to), onStalled is called once.
   */
  private watchBrokers(anyUp: boolean): void {
    const stallMs = this.options.stallRestartMs ?? 0;
    if (stallMs <= 0 || this.stalledReported) return;
    const now = Date.now();
    this.noBrokerSince = anyUp ? undefined : (this.noBrokerSince ?? now);
    if (anyUp) this.reachableSince = undefined;
    if (this.probing || !brokerlessTooLong(this.noBrokerSince, now, stallMs)) return;
    const brokers = String(this.options.config['metadata.broker.list'] ?? '');
    const since = this.noBrokerSince ?? now;
    this.probing = true;
    void anyBrokerAccepts(brokers, 3000)
      .then((reachable) => {
        if (!reachable) {
          this.reachableSince = undefined;
          return;
        }
        this.reachableSince ??= Date.now();
        if (this.stalledReported || this.noBrokerSince === undefined || Date.now() - this.reachableSince < REACHABLE_GRACE_MS) return;
        this.stalledReported = true;
        this.options.onStalled?.(
          new RelayError(
            'KAFKA_UNAVAILABLE',
            `no broker connection for ${Math.round((Date.now() - since) / 1000)} s although the brokers accept connections: the producer lost its brokers and must be restarted`,
            { retriable: true },
          ),
        );
      })
      .finally(() => (this.probing = false));
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
    this.stopPolling();
    clearInterval(this.idlePollTimer);
    // Anything still unreported is failed as transport-level: its rows are rolled back, not marked.
    for (const [opaque, p] of this.pending) {
      this.pending.delete(opaque);
      p.batch.settle(p.index, new RelayError('KAFKA_UNAVAILABLE', `producer stopped before ${p.topic} acknowledged the message`, { retriable: true }));
    }
    // A producer that never connected is torn down by node-rdkafka when its connect attempt ends;
    // disconnecting here would wait for that attempt (up to the connect timeout).
    if (this.connectFailed) return;
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
        const opaque = this.nextOpaque++;
        try {
          producer.produce(m.topic, m.partition, m.value, m.key, null, opaque);
        } catch (err) {
          if (kafkaCode(err) === QUEUE_FULL_CODE) {
            // Back-pressure: let delivery reports drain the local queue, then try again.
            this.ensurePolling();
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
        // Reports are only delivered by poll(), never during produce(): registering after is safe.
        this.pending.set(opaque, { batch, index: queued, topic: m.topic });
        queued += 1;
      }
    } catch (err) {
      // Messages already queued will still be sent: the caller must not give its rows up (and let
      // another relay publish newer states) before they are delivered or have failed.
      this.ensurePolling();
      batch.skipFrom(queued);
      await batch.settled;
      throw err;
    }
    this.ensurePolling();
    return { settled: batch.settled };
  }

  private onDelivery(err: LibrdKafkaError | null | undefined, report: DeliveryReport): void {
    const opaque = report.opaque as number;
    const p = this.pending.get(opaque);
    if (p === undefined) return;
    this.pending.delete(opaque);
    p.batch.settle(p.index, err ? messageError(err, report.topic, 'delivery') : null);
    if (this.pending.size === 0) this.stopPolling();
  }

  /** Partition counts for the given topics, refreshed from broker metadata when stale. */
  async refreshPartitions(topics: Iterable<string>): Promise<void> {
    const now = Date.now();
    for (const topic of topics) {
      const cached = this.partitions.get(topic);
      if (cached !== undefined && now - cached.fetchedAt < this.options.metadataRefreshMs) continue;
      const count = await this.fetchPartitionCount(topic);
      this.partitions.set(topic, { count, fetchedAt: Date.now() });
    }
  }

  /** Synchronous lookup after refreshPartitions(); throws for a topic that was not refreshed. */
  partitionCount(topic: string): number {
    const cached = this.partitions.get(topic);
    if (cached === undefined) throw new Error(`partition count of ${topic} is unknown (refreshPartitions first)`);
    return cached.count;
  }

  forgetPartitions(topic: string): void {
    this.partitions.delete(topic);
  }

  private async fetchPartitionCount(topic: string): Promise<number> {
    const producer = this.requireProducer();
    // A metadata request for a missing topic asks the broker to create it (when the broker allows
    // auto-creation); the partitions appear after a moment, hence a few tries.
    for (let attempt = 1; ; attempt++) {
      const metadata = await new Promise<Metadata>((resolve, reject) => {
        producer.getMetadata({ topic, timeout: 10_000 }, (err, data) => (err ? reject(err) : resolve(data)));
      }).catch((err: unknown) => {
        throw new RelayError('KAFKA_UNAVAILABLE', `metadata request for ${topic} failed: ${errorMessage(err)}`, { cause: err, retriable: true });
      });
      const entry = metadata.topics.find((t) => t.name === topic);
      const count = entry?.partitions.length ?? 0;
      if (count > 0) return count;
      if (attempt >= 5) {
        throw new RelayError('KAFKA_TOPIC_UNAVAILABLE', `topic ${topic} does not exist and was not auto-created`, { context: { topic } });
      }
      await sleep(200 * attempt);
    }
  }

  private ensurePolling(): void {
    if (this.pollTimer !== undefined || this.producer === undefined) return;
    const producer = this.producer;
    this.pollTimer = setInterval(() => {
      try {
        producer.poll();
      } catch {
        // poll() throws only when disconnected; pending deliveries are failed by stop().
      }
    }, this.options.pollIntervalMs ?? 2);
  }

  private stopPolling(): void {
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private requireProducer(): Producer {
    if (this.producer === undefined || this.stopping !== undefined) {
      throw new RelayError('KAFKA_UNAVAILABLE', 'the Kafka producer is not running', { retriable: true });
    }
    return this.producer;
  }
}

/** Whether any real broker (node id >= 0, not librdkafka's internal ones) is in state UP. */
/** Whether a real broker (not a bootstrap entry) is UP; undefined when the statistics list none. */
function anyBrokerUp(stats: unknown): boolean | undefined {
  const brokers = (stats as { brokers?: Record<string, { nodeid?: number; state?: string }> } | null)?.brokers;
  if (brokers === undefined || brokers === null) return undefined;
  const real = Object.values(brokers).filter((b) => typeof b.nodeid === 'number' && b.nodeid >= 0);
  if (real.length === 0) return undefined;
  return real.some((b) => b.state === 'UP');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
