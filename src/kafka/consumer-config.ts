import type { SinkConfig } from '../config/sink-types';
import { producerConfig, type KafkaSettings, type RdkafkaConfig } from './librdkafka-config';

/**
 * The sink's consumer: cooperative rebalancing (a partition moves without stopping the others),
 * offsets committed by the sink itself after each database transaction (never automatically),
 * a new group starting from the beginning of each topic (every record is synchronized, as the
 * gem's Karafka consumers start). The sink file's `librdkafka:` map overrides these.
 */
export const CONSUMER_DEFAULTS: RdkafkaConfig = {
  'partition.assignment.strategy': 'cooperative-sticky',
  'enable.auto.commit': false,
  'enable.auto.offset.store': false,
  'enable.partition.eof': false,
  'auto.offset.reset': 'earliest',
  'socket.keepalive.enable': true,
  'socket.nagle.disable': true,
  // Bounds what librdkafka prefetches while a batch is being applied (defaults: 64 MB, and 100k
  // messages per partition): a few rounds ahead is enough to keep the sink busy.
  'queued.max.messages.kbytes': 32768,
  'queued.min.messages': 20000,
  // As for the producer (librdkafka-config.ts): rebootstrap after losing every broker in 10 s, not 300 s.
  'metadata.recovery.rebootstrap.trigger.ms': 10000,
  // A subscribed topic that does not exist yet (the sink deployed before the producer's first
  // message) is seen within 30 s instead of librdkafka's 5 minutes; as are new partitions.
  'topic.metadata.refresh.interval.ms': 30000,
};

/** Connection settings shared with the producer: brokers, client id, TLS, SASL (and their librdkafka overrides). */
function isConnectionKey(key: string): boolean {
  return ['metadata.broker.list', 'bootstrap.servers', 'client.id', 'security.protocol'].includes(key) || /^(sasl|ssl)\./.test(key);
}

/** The dead-letter producer: the relay's producer configuration (idempotent, acks=all). */
export function deadLetterProducerConfig(settings: KafkaSettings): RdkafkaConfig {
  return producerConfig(settings);
}

/** The full consumer configuration. Holds secrets: never log it. */
export function consumerConfig(settings: KafkaSettings, sink: Pick<SinkConfig, 'groupId' | 'librdkafka'>): RdkafkaConfig {
  const connection = Object.fromEntries(Object.entries(producerConfig(settings)).filter(([key]) => isConnectionKey(key)));
  return { ...CONSUMER_DEFAULTS, ...connection, 'group.id': sink.groupId, ...sink.librdkafka };
}
