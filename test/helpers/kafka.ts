import { AdminClient, KafkaConsumer, type Message } from 'node-rdkafka';
import { TEST_KAFKA_BROKERS, uniqueSuffix } from './env';

/** A unique namespace so every test file publishes to topics of its own. */
export function uniqueNamespace(prefix = 'test'): string {
  return `${prefix}_${uniqueSuffix()}`;
}

/** `brokers`: another broker than the shared one (a test's private service pair). */
export async function createTopic(topic: string, partitions: number, config: Record<string, string> = {}, brokers = TEST_KAFKA_BROKERS): Promise<void> {
  const admin = AdminClient.create({ 'metadata.broker.list': brokers, 'client.id': 'dionysus-relay-tests' });
  try {
    await new Promise<void>((resolve, reject) =>
      admin.createTopic({ topic, num_partitions: partitions, replication_factor: 1, config }, 15_000, (err) =>
        err ? reject(err) : resolve(),
      ),
    );
  } finally {
    admin.disconnect();
  }
}

export async function deleteTopics(topics: readonly string[]): Promise<void> {
  const admin = AdminClient.create({ 'metadata.broker.list': TEST_KAFKA_BROKERS, 'client.id': 'dionysus-relay-tests' });
  try {
    for (const topic of topics) {
      await new Promise<void>((resolve) => admin.deleteTopic(topic, 15_000, () => resolve()));
    }
  } finally {
    admin.disconnect();
  }
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer | null;
  /** Headers, by name (the last value of a repeated name). */
  headers: Record<string, string>;
}

/**
 * Reads every partition of `topic` from the beginning until `expected` messages arrived (then
 * keeps reading for `settleMs` to catch extras), or throws after `timeoutMs` with what it got.
 * Uses assign() rather than a consumer group, so no rebalance delay and no committed offsets.
 */
export async function consumeAll(
  topic: string,
  expected: number,
  options: { timeoutMs?: number; settleMs?: number; client?: Record<string, string> } = {},
): Promise<ConsumedMessage[]> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const settleMs = options.settleMs ?? 500;
  const consumer = new KafkaConsumer(
    {
      // `client`: another broker and its security settings (the TLS/SASL test's own broker).
      'metadata.broker.list': TEST_KAFKA_BROKERS,
      ...options.client,
      'group.id': `dionysus-relay-test-${uniqueSuffix()}`,
      'enable.auto.commit': false,
      'enable.partition.eof': false,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 15_000 }, (err) => (err ? reject(err) : resolve())));
  try {
    const metadata = await new Promise<{ topics: Array<{ name: string; partitions: Array<{ id: number }> }> }>((resolve, reject) =>
      consumer.getMetadata({ topic, timeout: 10_000 }, (err, data) => (err ? reject(err) : resolve(data))),
    );
    const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
    consumer.assign(partitions.map((p) => ({ topic, partition: p.id, offset: 0 })));
    const got: ConsumedMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    let settleUntil: number | undefined;
    while (Date.now() < deadline) {
      const batch = await new Promise<Message[]>((resolve, reject) =>
        consumer.consume(500, (err, messages) => (err ? reject(err) : resolve(messages))),
      );
      for (const m of batch) {
        const headers: Record<string, string> = {};
        for (const h of m.headers ?? []) for (const [name, v] of Object.entries(h)) headers[name] = v.toString();
        got.push({
          topic: m.topic,
          partition: m.partition,
          offset: m.offset,
          key: m.key === undefined || m.key === null ? null : m.key.toString(),
          value: m.value,
          headers,
        });
      }
      if (got.length >= expected) {
        settleUntil ??= Date.now() + settleMs;
        if (Date.now() >= settleUntil) return got;
      }
    }
    throw new Error(`consumeAll(${topic}): expected ${expected} messages, got ${got.length} within ${timeoutMs} ms`);
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
