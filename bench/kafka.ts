import { AdminClient, KafkaConsumer, type Message } from 'node-rdkafka';

/**
 * Topics and a reader for the benchmark. Every topic is created with
 * `message.timestamp.type=LogAppendTime`: the broker stamps each record with the time it appended
 * it, which is (within the produce request's round trip) when acks=all was answered on this single
 * broker, so the consumer can read a per-message acknowledgement time the relay does not expose.
 */
export const BENCH_KAFKA_BROKERS = process.env['BENCH_KAFKA_BROKERS'] ?? process.env['TEST_KAFKA_BROKERS'] ?? '127.0.0.1:9092';

function admin(): ReturnType<typeof AdminClient.create> {
  return AdminClient.create({ 'metadata.broker.list': BENCH_KAFKA_BROKERS, 'client.id': 'dionysus-relay-bench' });
}

export async function createBenchTopic(topic: string, partitions: number): Promise<void> {
  const client = admin();
  try {
    await new Promise<void>((resolve, reject) =>
      client.createTopic(
        { topic, num_partitions: partitions, replication_factor: 1, config: { 'message.timestamp.type': 'LogAppendTime' } },
        15_000,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  } finally {
    client.disconnect();
  }
}

export async function deleteBenchTopics(topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  const client = admin();
  try {
    for (const topic of topics) await new Promise<void>((resolve) => client.deleteTopic(topic, 15_000, () => resolve()));
  } finally {
    client.disconnect();
  }
}

export interface ConsumedRecord {
  readonly key: string;
  readonly value: Buffer;
  /** Broker LogAppendTime, epoch ms. */
  readonly timestampMs: number;
  readonly partition: number;
}

/**
 * Reads `topic` from the beginning of every partition until `expected` messages arrived and then
 * `settleMs` passed without more (to catch duplicates), or `timeoutMs` passed. Each message is
 * handed to `onMessage` and not kept. Returns the number read.
 */
export async function consumeTopic(
  topic: string,
  expected: number,
  onMessage: (record: ConsumedRecord) => void,
  options: { timeoutMs: number; settleMs?: number },
): Promise<{ read: number; complete: boolean }> {
  const consumer = new KafkaConsumer(
    {
      'metadata.broker.list': BENCH_KAFKA_BROKERS,
      'group.id': `dionysus-relay-bench-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
      'enable.auto.commit': false,
      'enable.partition.eof': false,
      'fetch.wait.max.ms': 50,
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
    const settleMs = options.settleMs ?? 1_000;
    const deadline = Date.now() + options.timeoutMs;
    let read = 0;
    let lastArrivalMs = Date.now();
    while (Date.now() < deadline) {
      const batch = await new Promise<Message[]>((resolve, reject) =>
        consumer.consume(5_000, (err, messages) => (err ? reject(err) : resolve(messages))),
      );
      for (const m of batch) {
        read += 1;
        onMessage({
          key: m.key === undefined || m.key === null ? '' : m.key.toString(),
          value: m.value ?? Buffer.alloc(0),
          timestampMs: m.timestamp ?? NaN,
          partition: m.partition,
        });
      }
      if (batch.length > 0) lastArrivalMs = Date.now();
      if (read >= expected && Date.now() - lastArrivalMs >= settleMs) return { read, complete: true };
    }
    return { read, complete: read >= expected };
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

/** Messages per key: how many keys, how many keys appeared more than once, extra copies in all. */
export function duplicateCounts(keys: Map<string, number>): { distinctKeys: number; duplicatedKeys: number; extraMessages: number } {
  let duplicatedKeys = 0;
  let extraMessages = 0;
  for (const n of keys.values()) {
    if (n > 1) {
      duplicatedKeys += 1;
      extraMessages += n - 1;
    }
  }
  return { distinctKeys: keys.size, duplicatedKeys, extraMessages };
}
