import { KafkaConsumer, type Message } from 'node-rdkafka';
import { TEST_KAFKA_BROKERS, uniqueSuffix } from '../../helpers/env';

export interface ReadWithHeaders {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: Record<string, string>;
}

/** Reads `expected` messages of every partition of `topic` from the start, with their headers (or throws after timeoutMs). */
export async function readWithHeaders(topic: string, expected: number, timeoutMs = 30_000): Promise<ReadWithHeaders[]> {
  const consumer = new KafkaConsumer(
    { 'metadata.broker.list': TEST_KAFKA_BROKERS, 'group.id': `sink-test-${uniqueSuffix()}`, 'enable.auto.commit': false },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 15_000 }, (err) => (err ? reject(err) : resolve())));
  try {
    const metadata = await new Promise<{ topics: Array<{ name: string; partitions: Array<{ id: number }> }> }>((resolve, reject) =>
      consumer.getMetadata({ topic, timeout: 10_000 }, (err, data) => (err ? reject(err) : resolve(data))),
    );
    const partitions = metadata.topics.find((t) => t.name === topic)?.partitions ?? [];
    consumer.assign(partitions.map((p) => ({ topic, partition: p.id, offset: 0 })));
    consumer.setDefaultConsumeTimeout(200);
    const got: ReadWithHeaders[] = [];
    const deadline = Date.now() + timeoutMs;
    while (got.length < expected && Date.now() < deadline) {
      const batch = await new Promise<Message[]>((resolve, reject) => consumer.consume(100, (err, messages) => (err ? reject(err) : resolve(messages))));
      for (const m of batch) {
        const headers: Record<string, string> = {};
        for (const h of m.headers ?? []) for (const [k, v] of Object.entries(h)) headers[k] = v.toString();
        got.push({ partition: m.partition, offset: m.offset, key: m.key === undefined || m.key === null ? null : m.key.toString(), value: m.value === null ? null : m.value.toString(), headers });
      }
    }
    if (got.length < expected) throw new Error(`readWithHeaders(${topic}): expected ${expected} messages, got ${got.length}`);
    return got;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}
