import { Producer } from 'node-rdkafka';
import { RelayError } from '../errors';
import type { RdkafkaConfig } from './librdkafka-config';

/**
 * Partition counts of every topic the brokers have, from one metadata request for all topics
 * (which, unlike a request naming a topic, never makes a broker auto-create it).
 */
export async function listTopics(config: RdkafkaConfig, timeoutMs = 15_000): Promise<Map<string, number>> {
  const connection = Object.fromEntries(Object.entries(config).filter(([key]) => /^(metadata\.broker\.list|bootstrap\.servers|client\.id|security\.protocol|(sasl|ssl)\..*)$/.test(key)));
  const client = new Producer({ ...connection, 'allow.auto.create.topics': false } as never);
  try {
    await new Promise<void>((resolve, reject) => client.connect({ timeout: timeoutMs }, (err) => (err ? reject(err) : resolve())));
    const metadata = await new Promise<{ topics: Array<{ name: string; partitions: unknown[] }> }>((resolve, reject) =>
      client.getMetadata({ allTopics: true, timeout: timeoutMs }, (err, data) => (err ? reject(err) : resolve(data))),
    );
    return new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
  } catch (err) {
    throw new RelayError('KAFKA_UNAVAILABLE', `cannot read the topic list: ${(err as Error).message}`, { cause: err, retriable: true });
  } finally {
    await new Promise<void>((resolve) => client.disconnect(() => resolve()));
  }
}
