/**
 * The convict schema of the service settings: every key has a doc string, a default and an env var.
 * Secrets (database URL, SASL password) come only from env or files, never from defaults printed by
 * `--help`: their docs say so and their defaults hold no credentials.
 */

export const settingsSchema = {
  database: {
    url: {
      doc: 'PostgreSQL connection URL of the application database that holds dionysus_outboxes. Secret.',
      format: String,
      default: 'postgres://127.0.0.1:5432/dionysus_relay',
      env: 'DATABASE_URL',
      sensitive: true,
    },
    urlFile: {
      doc: 'Path of a file whose content is the database URL (wins over DATABASE_URL; for mounted secrets).',
      format: String,
      default: '',
      env: 'DATABASE_URL_FILE',
    },
    schema: {
      doc: 'Schema that holds the outbox table and is first on the search_path of every relay connection.',
      format: String,
      default: 'public',
      env: 'DATABASE_SCHEMA',
    },
    table: {
      doc: 'Name of the outbox table.',
      format: String,
      default: 'dionysus_outboxes',
      env: 'OUTBOX_TABLE',
    },
    poolSize: {
      doc: 'Maximum PostgreSQL connections of the relay (each batch in flight holds one; loads and bookkeeping share the rest).',
      format: 'nat',
      default: 10,
      env: 'DATABASE_POOL_SIZE',
    },
    statementTimeoutMs: {
      doc: 'statement_timeout of relay connections in ms; a serializer slower than this fails its rows with SERIALIZER_TIMEOUT.',
      format: 'nat',
      default: 30000,
      env: 'DATABASE_STATEMENT_TIMEOUT_MS',
    },
    idleInTransactionTimeoutMs: {
      doc: 'idle_in_transaction_session_timeout in ms: a relay frozen while holding claimed rows loses its claim transaction after this, so its rows are not locked forever (their resources wait for it to resume or exit: the frozen-relay guard).',
      format: 'nat',
      default: 60000,
      env: 'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
    },
    sslCaFile: {
      doc: 'Path of a PEM file with the CA that signed the server certificate (enables TLS verification).',
      format: String,
      default: '',
      env: 'DATABASE_SSL_CA_FILE',
    },
  },
  kafka: {
    brokers: {
      doc: 'Comma-separated Kafka bootstrap servers (host:port).',
      format: String,
      default: '127.0.0.1:9092',
      env: 'KAFKA_BROKERS',
    },
    clientId: {
      doc: 'Kafka client.id of the producer.',
      format: String,
      default: 'dionysus-relay',
      env: 'KAFKA_CLIENT_ID',
    },
    securityProtocol: {
      doc: 'security.protocol: plaintext, ssl, sasl_plaintext or sasl_ssl.',
      format: ['plaintext', 'ssl', 'sasl_plaintext', 'sasl_ssl'],
      default: 'plaintext',
      env: 'KAFKA_SECURITY_PROTOCOL',
    },
    saslMechanism: {
      doc: 'sasl.mechanisms: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512.',
      format: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'],
      default: 'PLAIN',
      env: 'KAFKA_SASL_MECHANISM',
    },
    saslUsername: {
      doc: 'SASL user name.',
      format: String,
      default: '',
      env: 'KAFKA_SASL_USERNAME',
    },
    saslPassword: {
      doc: 'SASL password. Secret: from env or KAFKA_SASL_PASSWORD_FILE only.',
      format: String,
      default: '',
      env: 'KAFKA_SASL_PASSWORD',
      sensitive: true,
    },
    saslPasswordFile: {
      doc: 'Path of a file whose content is the SASL password (wins over KAFKA_SASL_PASSWORD).',
      format: String,
      default: '',
      env: 'KAFKA_SASL_PASSWORD_FILE',
    },
    sslCaFile: {
      doc: 'Path of a PEM CA bundle for TLS to the brokers (ssl.ca.location).',
      format: String,
      default: '',
      env: 'KAFKA_SSL_CA_FILE',
    },
    librdkafka: {
      doc: 'Extra librdkafka producer settings as a JSON object (env) or a map (settings file); they override the relay defaults.',
      // Kept as JSON text inside convict: its strict validation would read the dotted librdkafka
      // names ("linger.ms") as nested settings keys. Parsed and checked in settings.ts.
      format: String,
      default: '{}',
      env: 'KAFKA_LIBRDKAFKA',
    },
    metadataRefreshMs: {
      doc: 'How often the relay re-reads partition counts of its topics from the brokers, in ms.',
      format: 'nat',
      default: 60000,
      env: 'KAFKA_METADATA_REFRESH_MS',
    },
    deliveryTimeoutMs: {
      doc: 'message.timeout.ms: how long librdkafka keeps retrying a message before reporting it failed.',
      format: 'nat',
      default: 30000,
      env: 'KAFKA_DELIVERY_TIMEOUT_MS',
    },
    stallRestartMs: {
      doc: 'Producer watchdog: after this long with no broker connection while the brokers accept connections (librdkafka lost them), the relay exits with code 75 to be restarted; 0 = off.',
      format: 'nat',
      default: 60000,
      env: 'KAFKA_STALL_RESTART_MS',
    },
  },
  topics: {
    file: {
      doc: 'Path of the topics YAML (namespace, topics, models and their serializers).',
      format: String,
      default: 'config/topics.yaml',
      env: 'TOPICS_FILE',
    },
  },
  sink: {
    file: {
      doc: 'Path of the sink YAML (`dionysus-relay sink`: consumer group, topics, model to table mapping).',
      format: String,
      default: 'config/sink.yaml',
      env: 'SINK_FILE',
    },
    maxBatchMessages: {
      doc: 'Messages the sink takes per fetch, and the most one partition batch (one transaction) holds; up to twice this waits in memory for the partitions\' batches.',
      format: 'nat',
      default: 2000,
      env: 'SINK_MAX_BATCH_MESSAGES',
    },
    concurrency: {
      doc: 'Partition batches the sink applies at once (each holds a database connection).',
      format: 'nat',
      default: 4,
      env: 'SINK_CONCURRENCY',
    },
    pollWaitMs: {
      doc: 'How long a sink round waits for a first message before going round again, in ms.',
      format: 'nat',
      default: 100,
      env: 'SINK_POLL_WAIT_MS',
    },
    errorBackoffMs: {
      doc: 'Pause before a rolled-back partition batch is applied again (database or broker down), doubled up to 30 s while it keeps failing.',
      format: 'nat',
      default: 500,
      env: 'SINK_ERROR_BACKOFF_MS',
    },
    shutdownGraceMs: {
      doc: 'On SIGTERM/SIGINT: time the sink has to finish its batches in flight and commit their offsets before a hard stop (exit 1), in ms.',
      format: 'nat',
      default: 25000,
      env: 'SINK_SHUTDOWN_GRACE_MS',
    },
  },
  log: {
    level: {
      doc: 'Log level: fatal, error, warn, info, debug, trace or silent.',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'LOG_LEVEL',
    },
    format: {
      doc: 'Log format: json, pretty, or auto (pretty on a terminal, json otherwise).',
      format: ['auto', 'json', 'pretty'],
      default: 'auto',
      env: 'LOG_FORMAT',
    },
  },
  relay: {
    batchSize: {
      doc: 'Rows claimed per batch. Each row takes one advisory lock slot while its batch is in flight (see README, Limits).',
      format: 'nat',
      default: 1000,
      env: 'RELAY_BATCH_SIZE',
    },
    maxInflightBatches: {
      doc: 'Batches in flight at once (claimed and not yet marked); each holds one database connection.',
      format: 'nat',
      default: 2,
      env: 'RELAY_MAX_INFLIGHT_BATCHES',
    },
    pollIntervalMs: {
      doc: 'Longest pause after a round of claims that found nothing, in ms (pauses start at 5 ms and double up to it).',
      format: 'nat',
      default: 200,
      env: 'RELAY_POLL_INTERVAL_MS',
    },
    poisonMaxCrashes: {
      doc: 'Set a row aside (error_class POISON_ROW, retry_at = infinity) after it was in flight during this many crashes of a relay; 0 = off. Needs the tables of `migrate`.',
      format: 'nat',
      default: 3,
      env: 'RELAY_POISON_MAX_CRASHES',
    },
    onPublish: {
      doc: 'What happens to a published row: mark (set published_at, as the gem) or delete (for installations that keep no history; failed rows are still marked).',
      format: ['mark', 'delete'],
      default: 'mark',
      env: 'RELAY_ON_PUBLISH',
    },
    listenNotify: {
      doc: 'LISTEN for the optional insert trigger (migrate --with notify_trigger) to publish without waiting for the poll; needs a direct or session-pooled connection.',
      format: Boolean,
      default: true,
      env: 'RELAY_LISTEN_NOTIFY',
    },
    publishDelayMs: {
      doc: 'Publish a row only this long after its created_at (the gem\'s intended delay), in ms.',
      format: 'nat',
      default: 0,
      env: 'RELAY_PUBLISH_DELAY_MS',
    },
    shutdownGraceMs: {
      doc: 'On SIGTERM/SIGINT: time allowed to finish batches in flight before a hard stop (exit 1), in ms.',
      format: 'nat',
      default: 25000,
      env: 'RELAY_SHUTDOWN_GRACE_MS',
    },
    errorBackoffMs: {
      doc: 'Pause after a batch failed as a whole (database or broker down), doubled up to 30 s while it keeps failing.',
      format: 'nat',
      default: 500,
      env: 'RELAY_ERROR_BACKOFF_MS',
    },
  },
  retry: {
    baseSeconds: {
      doc: 'Retry delay after the n-th failure is baseSeconds * 2^n (the gem: 5 → 10 s, 20 s, 40 s ...).',
      format: 'nat',
      default: 5,
      env: 'RETRY_BASE_SECONDS',
    },
    maxDelaySeconds: {
      doc: 'Cap of the retry delay in seconds; 0 = no cap (the gem).',
      format: 'nat',
      default: 0,
      env: 'RETRY_MAX_DELAY_SECONDS',
    },
    jitterRatio: {
      doc: 'Random shortening of each retry delay, 0..1 (0 = none, the gem).',
      format: Number,
      default: 0,
      env: 'RETRY_JITTER_RATIO',
    },
    maxAttempts: {
      doc: 'Give a row up after this many failures (retry_at = infinity); 0 = retry forever (the gem).',
      format: 'nat',
      default: 0,
      env: 'RETRY_MAX_ATTEMPTS',
    },
  },
  retention: {
    olderThan: {
      doc: 'In-daemon retention: delete published rows older than this (e.g. 3d, 12h); empty = off. Unpublished rows are never deleted.',
      format: String,
      default: '',
      env: 'RETENTION_OLDER_THAN',
    },
    interval: {
      doc: 'How often the in-daemon retention runs (e.g. 1h).',
      format: String,
      default: '1h',
      env: 'RETENTION_INTERVAL',
    },
    batchSize: {
      doc: 'Rows deleted per statement by retention (short transactions).',
      format: 'nat',
      default: 1000,
      env: 'RETENTION_BATCH_SIZE',
    },
    pauseMs: {
      doc: 'Pause between two retention delete statements, in ms.',
      format: 'nat',
      default: 100,
      env: 'RETENTION_PAUSE_MS',
    },
  },
  http: {
    port: {
      doc: 'Port of /metrics, /healthz and /readyz; 0 disables the HTTP server.',
      format: 'port',
      default: 9394,
      env: 'HTTP_PORT',
    },
    host: {
      doc: 'Address the HTTP server binds.',
      format: String,
      default: '0.0.0.0',
      env: 'HTTP_HOST',
    },
  },
  health: {
    livenessTimeoutMs: {
      doc: '/healthz fails when no claim attempt finished for this long, in ms.',
      format: 'nat',
      default: 60000,
      env: 'HEALTH_LIVENESS_TIMEOUT_MS',
    },
    compatFile: {
      doc: 'Touch __dionysus_outbox_worker__running__<HOSTNAME> in health.compatFileDir after every pass and remove it on shutdown, like the Ruby worker.',
      format: Boolean,
      default: false,
      env: 'HEALTH_COMPAT_FILE',
    },
    compatFileDir: {
      doc: 'Directory of the compatibility health file (health.compatFile); the Ruby worker\'s probes look in /tmp.',
      format: String,
      default: '/tmp',
      env: 'HEALTH_COMPAT_FILE_DIR',
    },
    readinessIntervalMs: {
      doc: 'How often /readyz checks PostgreSQL (SELECT 1), in ms (minimum 100); /readyz answers from the last check.',
      format: 'nat',
      default: 5000,
      env: 'HEALTH_READINESS_INTERVAL_MS',
    },
  },
  metrics: {
    backlogIntervalMs: {
      doc: 'How often the pending-rows and outbox-table gauges are refreshed by a query, in ms (minimum 100); never per scrape.',
      format: 'nat',
      default: 15000,
      env: 'METRICS_BACKLOG_INTERVAL_MS',
    },
  },
};
