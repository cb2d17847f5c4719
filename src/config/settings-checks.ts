import { PRODUCER_DEFAULTS } from '../kafka/librdkafka-config';
import { sslModeOf } from './connection-targets';
import type { Settings } from './settings';

/**
 * Settings that each pass their own rule but contradict each other, pure. Each check returns the
 * problems it found, naming every setting involved with its value and where that came from.
 */

/** The settings with the secret files read, and their paths still there. */
export type SettingsWithSecretFiles = Settings & { database: { urlFile: string }; kafka: { saslPasswordFile: string } };

export interface SettingsView {
  readonly settings: SettingsWithSecretFiles;
  /** The setting, its value and its origin, for a message (secrets show no value). */
  show(key: string): string;
  /** The setting and its origin without its value (for values that may hold secrets). */
  name(key: string): string;
  /** The value was given (env var, settings file or flag), not left at its default. */
  given(key: string): boolean;
}

/**
 * Connections of the relay's pool besides the one each batch in flight holds from claim to commit:
 * - 1 for what a batch runs beside its claim connection while holding it (serializer, dependency and
 *   observer loads, crash-tracker registrations): with none free, every batch waits for a connection
 *   another batch holds until the pool's 10 s connect timeout abandons it, and nothing is published
 *   (seen with DATABASE_POOL_SIZE=3, RELAY_MAX_INFLIGHT_BATCHES=2 and crash tracking on);
 * - 1 for the readiness probe, the backlog gauges and retention, so that /readyz (3 s timeout) does
 *   not queue behind the batches' loads;
 * - 1 more with crash tracking (RELAY_POISON_MAX_CRASHES > 0): it holds the instance's advisory lock
 *   on a connection of its own for the life of the process.
 * The LISTEN connection is a client of its own, outside the pool.
 */
export function connectionsBesidesBatches(settings: Pick<Settings, 'relay'>): number {
  return 2 + (settings.relay.poisonMaxCrashes > 0 ? 1 : 0);
}

/** Below this (and above 0), the claim keep-alive at a third of it is outrun by event-loop pauses. */
export const MIN_IDLE_IN_TRANSACTION_TIMEOUT_MS = 1000;

/** librdkafka settings the relay derives from settings of its own: one name per value. */
const DEDICATED_LIBRDKAFKA_KEYS: Readonly<Record<string, string>> = {
  'metadata.broker.list': 'KAFKA_BROKERS',
  'bootstrap.servers': 'KAFKA_BROKERS',
  'client.id': 'KAFKA_CLIENT_ID',
  'message.timeout.ms': 'KAFKA_DELIVERY_TIMEOUT_MS',
  'delivery.timeout.ms': 'KAFKA_DELIVERY_TIMEOUT_MS',
  'security.protocol': 'KAFKA_SECURITY_PROTOCOL',
  'sasl.mechanisms': 'KAFKA_SASL_MECHANISM',
  'sasl.mechanism': 'KAFKA_SASL_MECHANISM',
  'sasl.username': 'KAFKA_SASL_USERNAME',
  'sasl.password': 'KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)',
  'ssl.ca.location': 'KAFKA_SSL_CA_FILE',
};

type Check = (view: SettingsView) => string[];

const poolTooSmall: Check = ({ settings, show }) => {
  const besides = connectionsBesidesBatches(settings);
  const needed = settings.relay.maxInflightBatches + besides;
  if (settings.database.poolSize >= needed) return [];
  const tracking = settings.relay.poisonMaxCrashes > 0 ? `, 1 for crash tracking, on with ${show('relay.poisonMaxCrashes')}` : '';
  return [
    `${show('database.poolSize')} is too small for ${show('relay.maxInflightBatches')}: the relay needs one connection per batch in flight, ` +
      `plus 1 for the batches' loads, 1 for readiness and metrics queries${tracking}: ${needed} in all. ` +
      `Raise DATABASE_POOL_SIZE to ${needed} or lower RELAY_MAX_INFLIGHT_BATCHES.`,
  ];
};

const livenessShorterThanPauses: Check = ({ settings, show }) => {
  const { livenessTimeoutMs } = settings.health;
  return (['relay.pollIntervalMs', 'relay.errorBackoffMs'] as const).flatMap((key) => {
    const pause = key === 'relay.pollIntervalMs' ? settings.relay.pollIntervalMs : settings.relay.errorBackoffMs;
    if (livenessTimeoutMs > pause) return [];
    return [
      `${show('health.livenessTimeoutMs')} is not longer than ${show(key)}: the loop may pause that long between claim attempts, ` +
        'so /healthz would fail on a healthy relay and get it restarted. Make the liveness timeout longer than the pause.',
    ];
  });
};

const retryCapBelowBase: Check = ({ settings, show }) => {
  const { maxDelaySeconds, baseSeconds } = settings.retry;
  if (maxDelaySeconds === 0 || maxDelaySeconds >= baseSeconds) return [];
  return [`${show('retry.maxDelaySeconds')} caps the retry delay below ${show('retry.baseSeconds')}, so the base has no effect: raise the cap or lower the base.`];
};

const idleTimeoutTooShort: Check = ({ settings, show }) => {
  const idle = settings.database.idleInTransactionTimeoutMs;
  if (idle === 0 || idle >= MIN_IDLE_IN_TRANSACTION_TIMEOUT_MS) return [];
  return [
    `${show('database.idleInTransactionTimeoutMs')} is too short for the claim keep-alive, which runs every third of it (${Math.floor(idle / 3)} ms) ` +
      `and is outrun by ordinary event-loop pauses: batches would lose their claim. Use 0 (off) or at least ${MIN_IDLE_IN_TRANSACTION_TIMEOUT_MS}.`,
  ];
};

const librdkafkaOverlaps: Check = ({ settings, show, name }) => {
  const problems = Object.keys(settings.kafka.librdkafka)
    .filter((key) => DEDICATED_LIBRDKAFKA_KEYS[key] !== undefined)
    .map((key) => `${name('kafka.librdkafka')} sets ${key}, which the relay takes from ${DEDICATED_LIBRDKAFKA_KEYS[key]}: set that instead.`);
  const linger = settings.kafka.librdkafka['linger.ms'] ?? settings.kafka.librdkafka['queue.buffering.max.ms'] ?? PRODUCER_DEFAULTS['linger.ms'];
  if (Number(linger) >= settings.kafka.deliveryTimeoutMs) {
    problems.push(`${show('kafka.deliveryTimeoutMs')} must be longer than librdkafka's linger.ms (${String(linger)}): librdkafka refuses to start the producer otherwise.`);
  }
  return problems;
};

const saslContradictions: Check = ({ settings, show, given }) => {
  const { securityProtocol, saslUsername, saslPassword, saslPasswordFile } = settings.kafka;
  const hasPassword = saslPassword !== '' || saslPasswordFile !== '';
  const passwordKey = saslPasswordFile !== '' ? 'kafka.saslPasswordFile' : 'kafka.saslPassword';
  if (securityProtocol.startsWith('sasl')) {
    const missing = [saslUsername === '' ? 'KAFKA_SASL_USERNAME' : undefined, hasPassword ? undefined : 'KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)'].filter((m) => m !== undefined);
    return missing.length === 0 ? [] : [`${show('kafka.securityProtocol')} needs ${missing.join(' and ')}.`];
  }
  const ignored = [
    saslUsername !== '' ? show('kafka.saslUsername') : undefined,
    hasPassword ? show(passwordKey) : undefined,
    given('kafka.saslMechanism') ? show('kafka.saslMechanism') : undefined,
  ].filter((m) => m !== undefined);
  if (ignored.length === 0) return [];
  return [`${ignored.join(', ')}: SASL settings without SASL, as ${show('kafka.securityProtocol')} uses none. Set KAFKA_SECURITY_PROTOCOL to sasl_ssl or sasl_plaintext, or remove them.`];
};

const caWithoutTls: Check = ({ settings, show }) => {
  const problems: string[] = [];
  const { securityProtocol, sslCaFile } = settings.kafka;
  if (sslCaFile !== '' && (securityProtocol === 'plaintext' || securityProtocol === 'sasl_plaintext')) {
    problems.push(`${show('kafka.sslCaFile')} is unused: ${show('kafka.securityProtocol')} has no TLS (use ssl or sasl_ssl, or remove the CA).`);
  }
  const sslmode = sslModeOf(settings.database.url);
  if (settings.database.sslCaFile !== '' && (sslmode === 'disable' || sslmode === 'no-verify')) {
    problems.push(`${show('database.sslCaFile')} is set but ${show('database.url')} says sslmode=${sslmode}: remove one of them.`);
  }
  return problems;
};

// The values of database.url and kafka.saslPassword are those read from the files by now.
const twoSourcesForOneSecret: Check = ({ settings, name, given }) => {
  const problems: string[] = [];
  if (settings.database.urlFile !== '' && given('database.url')) {
    problems.push(`${name('database.urlFile')} and database.url (env DATABASE_URL) both give the database URL: keep one.`);
  }
  if (settings.kafka.saslPasswordFile !== '' && given('kafka.saslPassword')) {
    problems.push(`${name('kafka.saslPasswordFile')} and kafka.saslPassword (env KAFKA_SASL_PASSWORD) both give the SASL password: keep one.`);
  }
  return problems;
};

const retentionWithDelete: Check = ({ settings, show }) => {
  if (settings.retention.olderThan === '' || settings.relay.onPublish !== 'delete') return [];
  return [`${show('retention.olderThan')} has nothing to delete: with ${show('relay.onPublish')} no row stays published. Remove one of them.`];
};

const shareWithoutSlots: Check = ({ settings, show, given }) => {
  if (settings.relay.activeSlots > 0 || !given('relay.lockTableShare')) return [];
  return [
    `${show('relay.lockTableShare')} has no effect with ${show('relay.activeSlots')} (no limit on active relays): the lock table can only be shared ` +
      'among a known number of relays. Set RELAY_ACTIVE_SLOTS to the most relays that may claim at once, or remove RELAY_LOCK_TABLE_SHARE.',
  ];
};

const CHECKS: readonly Check[] = [
  poolTooSmall,
  livenessShorterThanPauses,
  retryCapBelowBase,
  idleTimeoutTooShort,
  librdkafkaOverlaps,
  saslContradictions,
  caWithoutTls,
  twoSourcesForOneSecret,
  retentionWithDelete,
  shareWithoutSlots,
];

/** Every contradiction between the settings; empty when there is none. */
export function contradictions(view: SettingsView): string[] {
  return CHECKS.flatMap((check) => check(view));
}
