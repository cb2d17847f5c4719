import { MAX_UNCAPPED_DELAY_SECONDS } from '../domain/retry-schedule';
import { MAX_TIMER_MS, PG_INT_MAX, type ValueRule } from './setting-values';

/**
 * The service settings: every key has a doc string, a default, an env var and a rule (what values
 * it accepts, see setting-values.ts). convict gets its schema from this one (convictSchema below).
 * Secrets (database URL, SASL password) come only from env or files, never from defaults printed by
 * `--help`: their docs say so and their defaults hold no credentials.
 */

export interface SettingSpec {
  readonly doc: string;
  readonly rule: ValueRule;
  readonly default: string | number | boolean;
  readonly env: string;
  readonly sensitive?: boolean;
}

/** The loop's pause after a failed batch doubles up to this (relay-loop's MAX_ERROR_BACKOFF_MS). */
export const MAX_ERROR_BACKOFF_MS = 30_000;
/** Floor of the readiness and backlog query intervals (they are timers that query the database). */
const MIN_INTERVAL_MS = 100;

const int = (min: number, max: number): ValueRule => ({ kind: 'integer', min, max });
const choice = (values: readonly string[]): ValueRule => ({ kind: 'choice', values });
const text = (extra: { pattern?: RegExp; patternHint?: string; maxBytes?: number } = {}): ValueRule => ({ kind: 'text', allowEmpty: false, ...extra });
const optionalText = (): ValueRule => ({ kind: 'text', allowEmpty: true });

export const settingsSchema: Record<string, Record<string, SettingSpec>> = {
  database: {
    url: {
      doc: 'URL of the database holding the outbox. Scheme postgres:// or postgresql://; secret.',
      rule: text(),
      default: 'postgres://127.0.0.1:5432/dionysus_relay',
      env: 'DATABASE_URL',
      sensitive: true,
    },
    urlFile: {
      doc: 'File holding the database URL (mounted secrets). Instead of DATABASE_URL, not with it.',
      rule: optionalText(),
      default: '',
      env: 'DATABASE_URL_FILE',
    },
    schema: {
      doc: 'Schema of the outbox table. It is first on the search_path of every relay connection.',
      rule: text({ pattern: /^[a-z_][a-z0-9_]*$/, patternHint: 'a lowercase identifier (a-z, 0-9, _; not starting with a digit): the relay puts it unquoted on search_path, where other names would be folded or cut', maxBytes: 63 }),
      default: 'public',
      env: 'DATABASE_SCHEMA',
    },
    table: {
      doc: 'Name of the outbox table.',
      rule: text({ maxBytes: 63 }),
      default: 'dionysus_outboxes',
      env: 'OUTBOX_TABLE',
    },
    poolSize: {
      doc: 'PostgreSQL connections of the relay. One per batch in flight, plus 2 for serializer loads and bookkeeping, plus 1 for crash tracking when RELAY_POISON_MAX_CRASHES > 0; a smaller pool is refused.',
      rule: int(1, 1000),
      default: 10,
      env: 'DATABASE_POOL_SIZE',
    },
    statementTimeoutMs: {
      doc: 'statement_timeout in ms; 0 = none. A serializer slower than this fails its rows with SERIALIZER_TIMEOUT.',
      rule: int(0, PG_INT_MAX),
      default: 30000,
      env: 'DATABASE_STATEMENT_TIMEOUT_MS',
    },
    idleInTransactionTimeoutMs: {
      doc: 'idle_in_transaction_session_timeout, in ms. Zero (off) or at least 1000. A relay frozen while holding claimed rows loses its claim (and row locks) after this; the frozen-relay guard keeps other relays off its resources.',
      rule: int(0, PG_INT_MAX),
      default: 60000,
      env: 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
    },
    sslCaFile: {
      doc: 'CA (PEM) of the server certificate. Enables TLS verification.',
      rule: optionalText(),
      default: '',
      env: 'DATABASE_SSL_CA_FILE',
    },
  },
  kafka: {
    brokers: {
      doc: 'Kafka bootstrap servers (host:port,...).',
      rule: text(),
      default: '127.0.0.1:9092',
      env: 'KAFKA_BROKERS',
    },
    clientId: {
      doc: 'Kafka client.id of the producer.',
      rule: text(),
      default: 'dionysus-relay',
      env: 'KAFKA_CLIENT_ID',
    },
    securityProtocol: {
      doc: 'Kafka security.protocol. One of plaintext, ssl, sasl_plaintext, sasl_ssl.',
      rule: choice(['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl']),
      default: 'plaintext',
      env: 'KAFKA_SECURITY_PROTOCOL',
    },
    saslMechanism: {
      doc: 'Kafka sasl.mechanisms. One of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512.',
      rule: choice(['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']),
      default: 'PLAIN',
      env: 'KAFKA_SASL_MECHANISM',
    },
    saslUsername: {
      doc: 'SASL user name. Treated as a secret (never printed).',
      rule: optionalText(),
      default: '',
      env: 'KAFKA_SASL_USERNAME',
      sensitive: true,
    },
    saslPassword: {
      doc: 'SASL password. Secret: from env or KAFKA_SASL_PASSWORD_FILE only.',
      rule: optionalText(),
      default: '',
      env: 'KAFKA_SASL_PASSWORD',
      sensitive: true,
    },
    saslPasswordFile: {
      doc: 'File holding the SASL password. Instead of KAFKA_SASL_PASSWORD, not with it.',
      rule: optionalText(),
      default: '',
      env: 'KAFKA_SASL_PASSWORD_FILE',
    },
    sslCaFile: {
      doc: 'CA bundle (PEM) for TLS to the brokers. It is librdkafka\'s ssl.ca.location.',
      rule: optionalText(),
      default: '',
      env: 'KAFKA_SSL_CA_FILE',
    },
    librdkafka: {
      doc: 'Extra librdkafka producer settings. They override the relay defaults; a JSON object (env) or a map (settings file). Keys the relay sets from its own settings (broker list, client id, message timeout, security) are refused: use those settings.',
      // Kept as JSON text inside convict: its strict validation would read the dotted librdkafka
      // names ("linger.ms") as nested settings keys. Parsed and checked in settings.ts.
      rule: { kind: 'json-object' },
      default: '{}',
      env: 'KAFKA_LIBRDKAFKA',
    },
    metadataRefreshMs: {
      doc: 'Partition count refresh, in ms. How often partition counts are re-read from the brokers; 0 = before every batch.',
      rule: int(0, MAX_TIMER_MS),
      default: 60000,
      env: 'KAFKA_METADATA_REFRESH_MS',
    },
    deliveryTimeoutMs: {
      doc: 'message.timeout.ms. How long librdkafka retries a message before failing it, in ms; more than linger.ms.',
      rule: int(1, PG_INT_MAX),
      default: 30000,
      env: 'KAFKA_DELIVERY_TIMEOUT_MS',
    },
    stallRestartMs: {
      doc: 'Producer watchdog in ms; 0 = off. No broker connection for this long while the brokers accept connections makes the relay exit with code 75 to be restarted.',
      rule: int(0, MAX_TIMER_MS),
      default: 60000,
      env: 'KAFKA_STALL_RESTART_MS',
    },
  },
  topics: {
    file: {
      doc: 'Path of the topics YAML. Namespace, topics, models and their serializers.',
      rule: text(),
      default: 'config/topics.yaml',
      env: 'TOPICS_FILE',
    },
  },
  sink: {
    file: {
      doc: 'Path of the sink YAML. Consumer group, topics, model to table mapping (`dionysus-relay sink`).',
      rule: text(),
      default: 'config/sink.yaml',
      env: 'SINK_FILE',
    },
    maxBatchMessages: {
      doc: 'Messages per fetch and per batch. The most one partition batch (one transaction) holds; up to twice this waits in memory for the partitions\' batches.',
      rule: int(1, 100_000),
      default: 2000,
      env: 'SINK_MAX_BATCH_MESSAGES',
    },
    concurrency: {
      doc: 'Partition batches the sink applies at once. Each holds a database connection (the sink\'s pool has at least this + 2).',
      rule: int(1, 100),
      default: 4,
      env: 'SINK_CONCURRENCY',
    },
    pollWaitMs: {
      doc: 'Wait for a first message per round, in ms. How long a sink round waits before going round again.',
      rule: int(1, MAX_TIMER_MS),
      default: 100,
      env: 'SINK_POLL_WAIT_MS',
    },
    errorBackoffMs: {
      doc: 'Pause before a failed batch is retried, in ms. A partition batch rolled back (database or broker down) is applied again after it, doubled up to 30 s (its maximum) while it keeps failing.',
      rule: int(1, MAX_ERROR_BACKOFF_MS),
      default: 500,
      env: 'SINK_ERROR_BACKOFF_MS',
    },
    shutdownGraceMs: {
      doc: 'Drain time on SIGTERM/SIGINT, in ms. The sink finishes its batches in flight and commits their offsets; past it the sink stops hard (exit 1).',
      rule: int(1, MAX_TIMER_MS),
      default: 25000,
      env: 'SINK_SHUTDOWN_GRACE_MS',
    },
  },
  log: {
    level: {
      doc: 'Log level. One of fatal, error, warn, info, debug, trace, silent.',
      rule: choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
      default: 'info',
      env: 'LOG_LEVEL',
    },
    format: {
      doc: 'Log format: json, pretty or auto. Auto is pretty on a terminal, json otherwise.',
      rule: choice(['auto', 'json', 'pretty']),
      default: 'auto',
      env: 'LOG_FORMAT',
    },
  },
  relay: {
    batchSize: {
      doc: 'Rows claimed per batch. Each row takes one advisory lock slot while its batch is in flight; lowered to fit the lock budget with RELAY_ACTIVE_SLOTS > 0 (docs/sizing.md).',
      rule: int(1, 100_000),
      default: 1000,
      env: 'RELAY_BATCH_SIZE',
    },
    maxInflightBatches: {
      doc: 'Batches in flight (claimed, not yet marked). Each holds one database connection.',
      rule: int(1, 100),
      default: 2,
      env: 'RELAY_MAX_INFLIGHT_BATCHES',
    },
    activeSlots: {
      doc: 'Relays that claim at once; 0 = no limit. Each running relay takes one of this many slots (a session advisory lock) or stands by, healthy, and takes over a slot within seconds of its holder dying. Also divides the lock budget (RELAY_LOCK_TABLE_SHARE); docs/sizing.md.',
      rule: int(0, 1000),
      default: 0,
      env: 'RELAY_ACTIVE_SLOTS',
    },
    lockTableShare: {
      doc: 'Lock table share of all active relays, in %. With RELAY_ACTIVE_SLOTS > 0: the share of PostgreSQL\'s lock table they may hold together. Each relay\'s batch size and batches in flight are lowered at start to fit its share; docs/sizing.md.',
      rule: int(1, 100),
      default: 50,
      env: 'RELAY_LOCK_TABLE_SHARE',
    },
    pollIntervalMs: {
      doc: 'Longest idle pause between claim rounds, in ms. Pauses after a round that found nothing start at 5 ms and double up to it.',
      rule: int(1, MAX_TIMER_MS),
      default: 200,
      env: 'RELAY_POLL_INTERVAL_MS',
    },
    poisonMaxCrashes: {
      doc: 'Crashes before a row is set aside; 0 = off. A row in flight during this many relay crashes gets error_class POISON_ROW and retry_at = infinity. Needs the tables of `migrate`.',
      rule: int(0, 1000),
      default: 3,
      env: 'RELAY_POISON_MAX_CRASHES',
    },
    onPublish: {
      doc: 'What happens to a published row: mark or delete. `mark` sets published_at, as the gem; `delete` keeps no history (failed rows are still marked).',
      rule: choice(['mark', 'delete']),
      default: 'mark',
      env: 'RELAY_ON_PUBLISH',
    },
    listenNotify: {
      doc: 'Wake on NOTIFY instead of waiting for the poll. LISTEN for the optional insert trigger, which comes with `migrate --with notify_trigger`; LISTEN needs a direct or session-pooled connection.',
      rule: { kind: 'boolean' },
      default: true,
      env: 'RELAY_LISTEN_NOTIFY',
    },
    publishDelayMs: {
      doc: 'Delay from created_at to publishing, in ms. The gem\'s intended delay.',
      rule: int(0, MAX_TIMER_MS),
      default: 0,
      env: 'RELAY_PUBLISH_DELAY_MS',
    },
    shutdownGraceMs: {
      doc: 'Drain time on SIGTERM/SIGINT, in ms. The batches in flight finish; past it the relay stops hard (exit 1).',
      rule: int(1, MAX_TIMER_MS),
      default: 25000,
      env: 'RELAY_SHUTDOWN_GRACE_MS',
    },
    errorBackoffMs: {
      doc: 'Pause after a failed batch, in ms. A batch failed as a whole (database or broker down) is followed by this pause, doubled up to 30 s (its maximum) while it keeps failing.',
      rule: int(1, MAX_ERROR_BACKOFF_MS),
      default: 500,
      env: 'RELAY_ERROR_BACKOFF_MS',
    },
    startRetryMaxMs: {
      doc: 'Retry cap while `run` or `sink` waits for PostgreSQL or Kafka, in ms. Both wait for them at start (/readyz says why); pauses between tries start at 250 ms and double up to this, with jitter.',
      rule: int(1, MAX_TIMER_MS),
      default: 10000,
      env: 'RELAY_START_RETRY_MAX_MS',
    },
    migrateAtStart: {
      doc: '`run` migrates first (`run --migrate`). The migrations of `migrate` without --with, once PostgreSQL answers; for pods without a migration job.',
      rule: { kind: 'boolean' },
      default: false,
      env: 'RELAY_MIGRATE',
    },
  },
  retry: {
    baseSeconds: {
      doc: 'Retry delay base, in s. The delay after the n-th failure is base * 2^n; the gem uses 5: 10 s, 20 s, 40 s ...',
      rule: int(1, MAX_UNCAPPED_DELAY_SECONDS),
      default: 5,
      env: 'RETRY_BASE_SECONDS',
    },
    maxDelaySeconds: {
      doc: 'Retry delay cap, in s; 0 = none (the gem). Otherwise at least RETRY_BASE_SECONDS.',
      rule: int(0, MAX_UNCAPPED_DELAY_SECONDS),
      default: 0,
      env: 'RETRY_MAX_DELAY_SECONDS',
    },
    jitterRatio: {
      doc: 'Retry delay jitter, 0..1. Random shortening of each retry delay; 0 = none, the gem.',
      rule: { kind: 'decimal', min: 0, max: 1 },
      default: 0,
      env: 'RETRY_JITTER_RATIO',
    },
    maxAttempts: {
      doc: 'Failures before a row is given up; 0 = never (the gem). A row given up gets retry_at = infinity.',
      rule: int(0, PG_INT_MAX),
      default: 0,
      env: 'RETRY_MAX_ATTEMPTS',
    },
  },
  retention: {
    olderThan: {
      doc: 'Delete published rows older than this; empty = off. E.g. 3d, 12h: in-daemon retention; unpublished rows are never deleted. Not with RELAY_ON_PUBLISH=delete (nothing stays published).',
      rule: { kind: 'duration', allowEmpty: true, minMs: 1000, maxMs: 100 * 365 * 86_400_000 },
      default: '',
      env: 'RETENTION_OLDER_THAN',
    },
    interval: {
      doc: 'How often retention runs (e.g. 1h).',
      rule: { kind: 'duration', allowEmpty: false, minMs: 1000, maxMs: MAX_TIMER_MS },
      default: '1h',
      env: 'RETENTION_INTERVAL',
    },
    batchSize: {
      doc: 'Rows deleted per retention statement. Short transactions.',
      rule: int(1, 100_000),
      default: 1000,
      env: 'RETENTION_BATCH_SIZE',
    },
    pauseMs: {
      doc: 'Pause between retention statements, in ms.',
      rule: int(0, MAX_TIMER_MS),
      default: 100,
      env: 'RETENTION_PAUSE_MS',
    },
  },
  http: {
    port: {
      doc: 'HTTP port; 0 = no HTTP server. It serves /metrics, /healthz and /readyz.',
      rule: int(0, 65_535),
      default: 9394,
      env: 'HTTP_PORT',
    },
    host: {
      doc: 'Address the HTTP server binds.',
      rule: text(),
      default: '0.0.0.0',
      env: 'HTTP_HOST',
    },
  },
  health: {
    livenessTimeoutMs: {
      doc: 'Liveness timeout, in ms. /healthz fails when no claim attempt finished for this long; longer than RELAY_POLL_INTERVAL_MS and RELAY_ERROR_BACKOFF_MS (the loop\'s longest pauses).',
      rule: int(1, MAX_TIMER_MS),
      default: 60000,
      env: 'HEALTH_LIVENESS_TIMEOUT_MS',
    },
    compatFile: {
      doc: 'Keep the Ruby worker\'s health file. Touch __dionysus_outbox_worker__running__<HOSTNAME> in HEALTH_COMPAT_FILE_DIR after every pass, remove it on shutdown.',
      rule: { kind: 'boolean' },
      default: false,
      env: 'HEALTH_COMPAT_FILE',
    },
    compatFileDir: {
      doc: 'Directory of the compatibility health file. The Ruby worker\'s probes look in /tmp.',
      rule: text(),
      default: '/tmp',
      env: 'HEALTH_COMPAT_FILE_DIR',
    },
    readinessIntervalMs: {
      doc: 'Readiness check interval, in ms. How often /readyz checks PostgreSQL (SELECT 1); it answers from the last check.',
      rule: int(MIN_INTERVAL_MS, MAX_TIMER_MS),
      default: 5000,
      env: 'HEALTH_READINESS_INTERVAL_MS',
    },
  },
  metrics: {
    backlogIntervalMs: {
      doc: 'Backlog gauge refresh, in ms. The pending-rows and outbox-table gauges are refreshed by a query, never per scrape.',
      rule: int(MIN_INTERVAL_MS, MAX_TIMER_MS),
      default: 15000,
      env: 'METRICS_BACKLOG_INTERVAL_MS',
    },
  },
};
