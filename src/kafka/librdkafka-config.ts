import type { Settings } from '../config/settings';

export type KafkaSettings = Settings['kafka'];
export type RdkafkaConfig = Record<string, string | number | boolean>;

/**
 * Producer defaults: safety first (idempotent producer, so acks=all and per-partition order survive
 * retries), then throughput (a short linger lets several batches share a produce request).
 * Anything in `kafka.librdkafka` overrides these.
 */
export const PRODUCER_DEFAULTS: RdkafkaConfig = {
  'enable.idempotence': true,
  acks: 'all',
  'linger.ms': 2,
  'batch.num.messages': 10000,
  'queue.buffering.max.messages': 200000,
  'queue.buffering.max.kbytes': 262144,
  'compression.type': 'none',
  'socket.keepalive.enable': true,
  // TCP_NODELAY: with Nagle's algorithm a small produce request waits until the previous one is
  // acknowledged, which adds to every batch's latency under a steady load (docs/benchmarks.md).
  'socket.nagle.disable': true,
  'allow.auto.create.topics': true,
  // librdkafka ≥ 2.10 drops brokers that a metadata response does not list (a restarting broker
  // can answer before it has registered itself) and, once none is left, bootstraps again only
  // after this long: 300 s by default, during which a batch in flight waits and holds its rows.
  // 10 s bounds that stall (docs/reliability.md, fault model).
  'metadata.recovery.rebootstrap.trigger.ms': 10000,
};

/** The full librdkafka configuration of the relay's producer. Holds secrets: never log it. */
export function producerConfig(settings: KafkaSettings): RdkafkaConfig {
  const config: RdkafkaConfig = {
    ...PRODUCER_DEFAULTS,
    'metadata.broker.list': settings.brokers,
    'client.id': settings.clientId,
    'message.timeout.ms': settings.deliveryTimeoutMs,
    'security.protocol': settings.securityProtocol,
  };
  if (settings.securityProtocol.startsWith('sasl')) {
    config['sasl.mechanisms'] = settings.saslMechanism;
    config['sasl.username'] = settings.saslUsername;
    config['sasl.password'] = settings.saslPassword;
  }
  if (settings.sslCaFile !== '') config['ssl.ca.location'] = settings.sslCaFile;
  return { ...config, ...settings.librdkafka };
}
