/**
 * Every metric of the relay: name (after the `dionysus_relay_` prefix), help text, labels and
 * buckets, in one table. RelayMetrics (metrics.ts) creates them on the registry it is given.
 */

export const METRIC_PREFIX = 'dionysus_relay_';

/** published_at - created_at: from a few ms (a healthy relay) to half an hour (a stalled one). */
export const PUBLISH_LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
export const PHASE_DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

export interface MetricDefinition<L extends string = never> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  readonly buckets?: readonly number[];
}

const topicLabel = ['topic'] as const;

export const METRICS = {
  published: { name: 'rows_published_total', help: 'Outbox rows published (broker acknowledged, row marked).', labelNames: topicLabel },
  failed: {
    name: 'rows_failed_total',
    help: 'Outbox rows whose publication failed (marked with error_class, retried later or given up).',
    labelNames: ['topic', 'error_class'] as const,
  },
  givenUp: { name: 'rows_given_up_total', help: 'Outbox rows given up (retry_at = infinity) after retry.maxAttempts failures.', labelNames: topicLabel },
  heldBack: {
    name: 'rows_held_total',
    help: 'Claimed rows left pending for a later claim (no attempt counted): another batch was publishing their resource, or a relay alive but without its claim transaction (frozen?) may still send it.',
    labelNames: topicLabel,
  },
  abandoned: { name: 'batches_abandoned_total', help: 'Batches rolled back as a whole (database or broker trouble); their rows are claimed again.', labelNames: topicLabel },
  latency: { name: 'publish_latency_seconds', help: 'published_at - created_at of published rows, in seconds.', labelNames: topicLabel, buckets: PUBLISH_LATENCY_BUCKETS_SECONDS },
  phaseDuration: {
    name: 'batch_phase_duration_seconds',
    help: 'Time spent per batch phase: claim, load (serializers), produce (until every delivery report), mark (and commit).',
    labelNames: ['phase'] as const,
    buckets: PHASE_DURATION_BUCKETS_SECONDS,
  },
  batchSize: { name: 'batch_size', help: 'Rows claimed per non-empty batch.', buckets: BATCH_SIZE_BUCKETS },
  pending: {
    name: 'pending_rows',
    help: 'Unpublished outbox rows per topic (including rows waiting for a retry, excluding given-up rows), as of the last backlog poll.',
    labelNames: topicLabel,
  },
  oldestAge: { name: 'oldest_pending_age_seconds', help: 'Age of the oldest unpublished outbox row per topic (0 when none), as of the last backlog poll.', labelNames: topicLabel },
  givenUpRows: {
    name: 'given_up_rows',
    help: "Outbox rows given up (retry_at = 'infinity': RETRY_MAX_ATTEMPTS failures, or set aside as POISON_ROW) per claimed topic, as of the last backlog poll; they need a human.",
    labelNames: topicLabel,
  },
  unconfigured: {
    name: 'unconfigured_pending_rows',
    help: 'Pending outbox rows of topics this relay does not claim (left to another relay or the gem), as of the last backlog poll.',
    labelNames: topicLabel,
  },
  kafkaQueue: { name: 'kafka_queue_messages', help: "Messages in librdkafka's local producer queue (statistics msg_cnt)." },
  brokerRtt: {
    name: 'kafka_broker_rtt_seconds',
    help: 'Average request round-trip time per broker (librdkafka rtt.avg) over the last statistics window that measured one.',
    labelNames: ['broker'] as const,
  },
  inflight: { name: 'inflight_messages', help: 'Messages handed to the producer whose delivery report has not arrived yet.' },
  notifications: {
    name: 'notifications_total',
    help: 'Notifications of the optional insert trigger received on the LISTEN connection (RELAY_LISTEN_NOTIFY); each wakes the sleeping workers.',
  },
  poolConnections: {
    name: 'pg_pool_connections',
    help: 'PostgreSQL pool, parts that add up: active (connections in use), idle (open, unused), waiting (callers queued for a connection).',
    labelNames: ['state'] as const,
  },
  deadTuples: { name: 'outbox_dead_tuples', help: 'n_dead_tup of the outbox table (pg_stat_user_tables).' },
  vacuumAge: { name: 'outbox_last_autovacuum_age_seconds', help: 'Seconds since the outbox table was last vacuumed (autovacuum or VACUUM); NaN when never.' },
  tableBytes: { name: 'outbox_table_bytes', help: 'pg_table_size of the outbox table (heap and TOAST).' },
  indexBytes: { name: 'outbox_index_bytes', help: 'pg_indexes_size of the outbox table (all its indexes).' },
  dependencyUp: {
    name: 'dependency_up',
    help: 'Whether a dependency answers (1) or not (0), as readiness sees it: while run waits for it at start, then from the periodic PostgreSQL check and the Kafka producer\'s connection.',
    labelNames: ['dependency'] as const,
  },
  active: {
    name: 'active',
    help: 'Whether this relay may claim (1) or stands by without an active slot (0); always 1 with relay.activeSlots = 0.',
  },
  buildInfo: {
    name: 'build_info',
    help: 'Always 1; labels say which relay, Node.js and librdkafka versions run.',
    labelNames: ['version', 'node', 'librdkafka'] as const,
  },
} as const;
