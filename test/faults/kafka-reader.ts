import { KafkaConsumer, type Message } from 'node-rdkafka';
import { TEST_KAFKA_BROKERS, uniqueSuffix } from '../helpers/env';

/** One message read back, with the state its record carries. */
export interface ReadMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly event: string;
  readonly version: number;
  /** When the relay read the record (the serializer's clock_timestamp()), epoch ms. */
  readonly loadedAtMs: number;
  /** application_name of the relay connection that read it: which relay process sent it. */
  readonly loadedBy: string;
  /** Kafka CreateTime: when the relay handed the message to librdkafka, epoch ms. */
  readonly timestampMs: number;
}

interface Envelope {
  message: Array<{ event: string; data: Array<{ version: number; loaded_at: string; loaded_by: string }> }>;
}

/**
 * Reads every partition of `topic` from offset 0 up to its high watermark (taken once the relays
 * stopped, so nothing more arrives), with assign() and no consumer group.
 */
export async function readTopic(topic: string, partitions: number, timeoutMs = 120_000): Promise<ReadMessage[]> {
  const consumer = new KafkaConsumer(
    {
      'metadata.broker.list': TEST_KAFKA_BROKERS,
      'group.id': `dionysus-relay-faults-${uniqueSuffix()}`,
      'enable.auto.commit': false,
      'enable.partition.eof': false,
      'fetch.message.max.bytes': 4 * 1024 * 1024,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  await new Promise<void>((resolve, reject) => consumer.connect({ timeout: 30_000 }, (err) => (err ? reject(err) : resolve())));
  try {
    const highs = new Map<number, number>();
    for (let p = 0; p < partitions; p++) {
      const high = await new Promise<number>((resolve, reject) =>
        consumer.queryWatermarkOffsets(topic, p, 30_000, (err, offsets) => (err ? reject(err) : resolve(offsets.highOffset))),
      );
      highs.set(p, high);
    }
    consumer.assign([...highs.keys()].map((partition) => ({ topic, partition, offset: 0 })));
    const next = new Map<number, number>([...highs.keys()].map((p) => [p, 0]));
    const done = (): boolean => [...highs].every(([p, high]) => (next.get(p) ?? 0) >= high);
    const got: ReadMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) {
        const progress = [...highs].map(([p, high]) => `p${p} ${next.get(p)}/${high}`).join(', ');
        throw new Error(`reading ${topic}: not at the high watermarks after ${timeoutMs} ms (${progress})`);
      }
      const batch = await new Promise<Message[]>((resolve, reject) => consumer.consume(1000, (err, messages) => (err ? reject(err) : resolve(messages))));
      for (const m of batch) {
        got.push(decode(m));
        next.set(m.partition, m.offset + 1);
      }
    }
    return got;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

function decode(m: Message): ReadMessage {
  const key = m.key === undefined || m.key === null ? '' : m.key.toString();
  const where = `${m.topic}[${m.partition}]@${m.offset} (${key})`;
  if (m.value === null) throw new Error(`${where}: unexpected tombstone`);
  const envelope = JSON.parse(m.value.toString('utf8')) as Envelope;
  const event = envelope.message[0];
  const record = event?.data[0];
  if (event === undefined || record === undefined || typeof record.version !== 'number') {
    throw new Error(`${where}: not a one-event one-record message with a version: ${m.value.toString('utf8').slice(0, 200)}`);
  }
  return {
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key,
    event: event.event,
    version: record.version,
    loadedAtMs: Date.parse(record.loaded_at),
    loadedBy: record.loaded_by,
    timestampMs: m.timestamp ?? NaN,
  };
}
