import { HighLevelProducer, type MessageHeader } from 'node-rdkafka';
import { RelayError, errorMessage } from '../errors';
import type { ConsumedMessage } from '../sink/batch-preparation';
import { kafkaCodeName } from './kafka-errors';
import type { RdkafkaConfig } from './librdkafka-config';

/** A message the sink could not apply, on its way to the dead-letter topic. */
export interface DeadLetter {
  readonly topic: string;
  readonly message: ConsumedMessage;
  readonly code: string;
  readonly reason: string;
}

/** Headers of a dead letter: why it is there and where it came from (the value and key are unchanged). */
export function deadLetterHeaders(letter: DeadLetter, groupId: string, now: Date): MessageHeader[] {
  const m = letter.message;
  return [
    { 'dionysus-error-class': letter.code },
    { 'dionysus-error-message': letter.reason.slice(0, 4000) },
    { 'dionysus-original-topic': m.topic },
    { 'dionysus-original-partition': String(m.partition) },
    { 'dionysus-original-offset': String(m.offset) },
    ...(m.timestamp === undefined ? [] : [{ 'dionysus-original-timestamp': String(m.timestamp) }]),
    { 'dionysus-consumer-group': groupId },
    { 'dionysus-failed-at': now.toISOString() },
  ];
}

/**
 * Sends poison messages to their dead-letter topic and resolves once the broker acknowledged every
 * one (the sink commits the batch, and its offsets, only after that). Dead letters are rare, so
 * each message gets its own delivery callback.
 */
export class DeadLetterProducer {
  private producer: HighLevelProducer | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly config: RdkafkaConfig,
    private readonly groupId: string,
  ) {}

  async start(): Promise<void> {
    if (this.producer !== undefined) return;
    const producer = new HighLevelProducer({ ...(this.config as Record<string, unknown>) } as never);
    this.producer = producer;
    await new Promise<void>((resolve, reject) =>
      producer.connect({ timeout: 15_000 }, (err) =>
        err ? reject(new RelayError('KAFKA_UNAVAILABLE', `dead-letter producer cannot connect: ${err.message}`, { cause: err, retriable: true })) : resolve(),
      ),
    );
    // Delivery callbacks come from poll(); the default (1 s) would hold a batch with a poison message.
    producer.setPollInterval(20);
  }

  async send(letters: readonly DeadLetter[]): Promise<void> {
    const producer = this.producer;
    if (producer === undefined || this.stopping !== undefined) throw new RelayError('SINK_DEAD_LETTER_FAILED', 'the dead-letter producer is not running', { retriable: true });
    const now = new Date();
    await Promise.all(
      letters.map(
        (letter) =>
          new Promise<void>((resolve, reject) => {
            const m = letter.message;
            const fail = (err: unknown): void =>
              reject(new RelayError('SINK_DEAD_LETTER_FAILED', `dead letter to ${letter.topic} failed: ${kafkaCodeName(err)}: ${errorMessage(err)}`, { cause: err, retriable: true }));
            try {
              producer.produce(letter.topic, null, m.value, m.key, null, deadLetterHeaders(letter, this.groupId, now), (err: unknown) => (err ? fail(err) : resolve()));
            } catch (err) {
              fail(err);
            }
          }),
      ),
    );
  }

  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      const producer = this.producer;
      if (producer === undefined) return resolve();
      producer.flush(5000, () => producer.disconnect(() => resolve()));
    });
    return this.stopping;
  }
}
