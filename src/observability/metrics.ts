import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { librdkafkaVersion } from 'node-rdkafka';
import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import { packageRoot } from '../package-root';
import type { BatchPhase, RelayObserver } from '../relay/relay-observer';
import { summarizeKafkaStats } from './kafka-stats';

/**
 * Every metric of the relay, defined once on a registry the caller passes in (never prom-client's
 * global one). Labels are bounded: topic (from the topics file), error_class (the closed set of
 * error codes), phase, broker, pool state; never a row or resource id.
 *
 * Three ways values arrive:
 * - pushed by the relay loop through the RelayObserver methods (counters, histograms);
 * - pushed by timers: librdkafka statistics (`recordKafkaStats`), the backlog poller
 *   (`recordBacklog`, `recordTableHealth`);
 * - pulled on scrape from the sources attached with `observePool` / `observePublisher`.
 */

export const METRIC_PREFIX = 'dionysus_relay_';

/** published_at - created_at: from a few ms (a healthy relay) to half an hour (a stalled one). */
export const PUBLISH_LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];
export const PHASE_DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000];

export interface BuildInfo {
  readonly version: string;
  readonly node: string;
  readonly librdkafka: string;
}

/** One topic's backlog as the poller read it. */
export interface TopicBacklog {
  readonly topic: string;
  readonly pending: number;
  readonly oldestAgeSeconds: number;
}

export interface TableHealth {
  readonly deadTuples: number;
  /** Seconds since the last (auto)vacuum; NaN when the table was never vacuumed (since a stats reset). */
  readonly lastVacuumAgeSeconds: number;
  readonly tableBytes: number;
  readonly indexBytes: number;
}

/** The slice of pg's Pool read on scrape. */
export interface PoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

export interface RelayMetricsOptions {
  /** Full Kafka topic names of the topics file; their series exist (at 0) from the start. */
  readonly topics: readonly string[];
  /**
   * Outbox topics this relay claims (the topics, plus `__outbox_observer__` when observers are
   * configured); pending rows of any other topic are counted as unconfigured. Default: `topics`.
   */
  readonly claimedTopics?: readonly string[];
  readonly buildInfo: BuildInfo;
  /** prom-client's process and Node.js metrics (process_*, nodejs_*); default true. */
  readonly defaultMetrics?: boolean;
}

export class RelayMetrics implements RelayObserver {
  private readonly topics: readonly string[];
  private readonly claimedTopics: ReadonlySet<string>;
  private pool: PoolCounts | undefined;
  private publisher: { readonly inflight: number } | undefined;
  private lastRtt = new Map<string, number>();

  private readonly published: Counter<'topic'>;
  private readonly failed: Counter<'topic' | 'error_class'>;
  private readonly givenUp: Counter<'topic'>;
  private readonly held: Counter<'topic'>;
  private readonly abandoned: Counter<'topic'>;
  private readonly latency: Histogram<'topic'>;
  private readonly phaseDuration: Histogram<'phase'>;
  private readonly batchSize: Histogram;
  private readonly pending: Gauge<'topic'>;
  private readonly oldestAge: Gauge<'topic'>;
  private readonly unconfigured: Gauge<'topic'>;
  private readonly kafkaQueue: Gauge;
  private readonly brokerRtt: Gauge<'broker'>;
  private readonly deadTuples: Gauge;
  private readonly vacuumAge: Gauge;
  private readonly tableBytes: Gauge;
  private readonly indexBytes: Gauge;

  constructor(registry: Registry, options: RelayMetricsOptions) {
    this.topics = [...options.topics];
    this.claimedTopics = new Set(options.claimedTopics ?? options.topics);
    const registers = [registry];
    const name = (suffix: string): string => METRIC_PREFIX + suffix;

    this.published = new Counter({
      name: name('rows_published_total'),
      help: 'Outbox rows published (broker acknowledged, row marked).',
      labelNames: ['topic'],
      registers,
    });
    this.failed = new Counter({
      name: name('rows_failed_total'),
      help: 'Outbox rows whose publication failed (marked with error_class, retried later or given up).',
      labelNames: ['topic', 'error_class'],
      registers,
    });
    this.givenUp = new Counter({
      name: name('rows_given_up_total'),
      help: 'Outbox rows given up (retry_at = infinity) after retry.maxAttempts failures.',
      labelNames: ['topic'],
      registers,
    });
    this.held = new Counter({
      name: name('rows_held_total'),
      help: 'Claimed rows left pending for a later claim (no attempt counted): another batch was publishing their resource, or a relay alive but without its claim transaction (frozen?) may still send it.',
      labelNames: ['topic'],
      registers,
    });
    this.abandoned = new Counter({
      name: name('batches_abandoned_total'),
      help: 'Batches rolled back as a whole (database or broker trouble); their rows are claimed again.',
      labelNames: ['topic'],
      registers,
    });
    this.latency = new Histogram({
      name: name('publish_latency_seconds'),
      help: 'published_at - created_at of published rows, in seconds.',
      labelNames: ['topic'],
      buckets: PUBLISH_LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.phaseDuration = new Histogram({
      name: name('batch_phase_duration_seconds'),
      help: 'Time spent per batch phase: claim, load (serializers), produce (until every delivery report), mark (and commit).',
      labelNames: ['phase'],
      buckets: PHASE_DURATION_BUCKETS_SECONDS,
      registers,
    });
    this.batchSize = new Histogram({ name: name('batch_size'), help: 'Rows claimed per non-empty batch.', buckets: BATCH_SIZE_BUCKETS, registers });
    this.pending = new Gauge({
      name: name('pending_rows'),
      help: 'Unpublished outbox rows per topic (including rows waiting for a retry, excluding given-up rows), as of the last backlog poll.',
      labelNames: ['topic'],
      registers,
    });
    this.oldestAge = new Gauge({
      name: name('oldest_pending_age_seconds'),
      help: 'Age of the oldest unpublished outbox row per topic (0 when none), as of the last backlog poll.',
      labelNames: ['topic'],
      registers,
    });
    this.unconfigured = new Gauge({
      name: name('unconfigured_pending_rows'),
      help: 'Pending outbox rows of topics this relay does not claim (left to another relay or the gem), as of the last backlog poll.',
      labelNames: ['topic'],
      registers,
    });
    const kafkaQueueHelp = "Messages in librdkafka's local producer queue (statistics msg_cnt).";
    this.kafkaQueue = new Gauge({ name: name('kafka_queue_messages'), help: kafkaQueueHelp, registers });
    this.brokerRtt = new Gauge({
      name: name('kafka_broker_rtt_seconds'),
      help: 'Average request round-trip time per broker (librdkafka rtt.avg) over the last statistics window that measured one.',
      labelNames: ['broker'],
      registers,
    });
    const publisherSource = (): { readonly inflight: number } | undefined => this.publisher;
    new Gauge({
      name: name('inflight_messages'),
      help: 'Messages handed to the producer whose delivery report has not arrived yet.',
      registers,
      collect() {
        const publisher = publisherSource();
        if (publisher !== undefined) this.set(publisher.inflight);
      },
    });
    poolGauge(registry, name('pg_pool_connections'), () => this.pool);
    this.deadTuples = new Gauge({ name: name('outbox_dead_tuples'), help: 'n_dead_tup of the outbox table (pg_stat_user_tables).', registers });
    this.vacuumAge = new Gauge({
      name: name('outbox_last_autovacuum_age_seconds'),
      help: 'Seconds since the outbox table was last vacuumed (autovacuum or VACUUM); NaN when never.',
      registers,
    });
    this.tableBytes = new Gauge({ name: name('outbox_table_bytes'), help: 'pg_table_size of the outbox table (heap and TOAST).', registers });
    this.indexBytes = new Gauge({ name: name('outbox_index_bytes'), help: 'pg_indexes_size of the outbox table (all its indexes).', registers });
    const buildInfo = new Gauge({
      name: name('build_info'),
      help: 'Always 1; labels say which relay, Node.js and librdkafka versions run.',
      labelNames: ['version', 'node', 'librdkafka'],
      registers,
    });
    buildInfo.set({ ...options.buildInfo }, 1);

    // Series of every configured topic exist from the start, so rate()/increase() see the first row.
    for (const topic of this.topics) {
      this.published.inc({ topic }, 0);
      this.givenUp.inc({ topic }, 0);
      this.held.inc({ topic }, 0);
      this.abandoned.inc({ topic }, 0);
      this.latency.zero({ topic });
    }
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  }

  /** The pg Pool whose connection counts are read on every scrape. */
  observePool(pool: PoolCounts): void {
    this.pool = pool;
  }

  /** The publisher whose in-flight count is read on every scrape. */
  observePublisher(publisher: { readonly inflight: number }): void {
    this.publisher = publisher;
  }

  // ---------------------------------------------------------------- RelayObserver

  claimFinished(): void {
    // The liveness heartbeat (HealthMonitor); claims are timed by phase="claim", batches by batchClaimed.
  }

  batchClaimed(_topic: string, rows: number): void {
    this.batchSize.observe(rows);
  }

  phaseFinished(phase: BatchPhase, seconds: number): void {
    this.phaseDuration.observe({ phase }, seconds);
  }

  rowsPublished(topic: string, latenciesSeconds: readonly number[]): void {
    if (latenciesSeconds.length === 0) return;
    this.published.inc({ topic }, latenciesSeconds.length);
    for (const seconds of latenciesSeconds) this.latency.observe({ topic }, seconds);
  }

  rowsFailed(topic: string, errorClasses: readonly string[]): void {
    const counts = new Map<string, number>();
    for (const errorClass of errorClasses) counts.set(errorClass, (counts.get(errorClass) ?? 0) + 1);
    for (const [errorClass, count] of counts) this.failed.inc({ topic, error_class: errorClass }, count);
  }

  rowsGivenUp(topic: string, count: number): void {
    this.givenUp.inc({ topic }, count);
  }

  rowsHeld(topic: string, count: number): void {
    this.held.inc({ topic }, count);
  }

  batchAbandoned(topic: string, _reason: string): void {
    // The reason is free text (it is logged by the loop); as a label it would be unbounded.
    this.abandoned.inc({ topic });
  }

  passFinished(): void {
    // Nothing to count: a pass is the compatibility health file's heartbeat.
  }

  // ---------------------------------------------------------------- timers

  /** librdkafka's statistics blob (the publisher's onStats callback). */
  recordKafkaStats(stats: unknown): void {
    const summary = summarizeKafkaStats(stats);
    if (summary.queueMessages !== undefined) this.kafkaQueue.set(summary.queueMessages);
    // An idle producer measures nothing: keep each broker's last measured RTT; brokers librdkafka
    // no longer knows drop out.
    const known = new Map<string, number>();
    for (const { broker, rttSeconds } of summary.brokers) {
      const seconds = rttSeconds ?? this.lastRtt.get(broker);
      if (seconds !== undefined) known.set(broker, seconds);
    }
    this.lastRtt = known;
    this.brokerRtt.reset();
    for (const [broker, seconds] of known) this.brokerRtt.set({ broker }, seconds);
  }

  /**
   * The backlog poll's rows, every topic with pending rows; configured topics missing from them
   * have nothing pending, and unclaimed topics that drained lose their series.
   */
  recordBacklog(rows: readonly TopicBacklog[]): void {
    const byTopic = new Map(rows.map((r) => [r.topic, r]));
    for (const topic of this.topics) {
      const row = byTopic.get(topic);
      this.pending.set({ topic }, row?.pending ?? 0);
      this.oldestAge.set({ topic }, row === undefined ? 0 : Math.max(0, row.oldestAgeSeconds));
    }
    this.unconfigured.reset();
    for (const row of rows) {
      if (!this.claimedTopics.has(row.topic)) this.unconfigured.set({ topic: row.topic }, row.pending);
    }
  }

  recordTableHealth(health: TableHealth): void {
    this.deadTuples.set(health.deadTuples);
    this.vacuumAge.set(health.lastVacuumAgeSeconds);
    this.tableBytes.set(health.tableBytes);
    this.indexBytes.set(health.indexBytes);
  }
}

/** `<name>{state="total|idle|waiting"}` of a pool read on every scrape (the relay's and the sink's). */
export function poolGauge(registry: Registry, name: string, source: () => PoolCounts | undefined): void {
  new Gauge({
    name,
    help: 'PostgreSQL pool connections: total (open), idle, waiting (callers queued for a connection).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const pool = source();
      if (pool === undefined) return;
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
}

/** Versions for dionysus_relay_build_info. */
export function readBuildInfo(): BuildInfo {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return {
    version: typeof manifest.version === 'string' ? manifest.version : 'unknown',
    node: process.version,
    librdkafka: librdkafkaVersion,
  };
}
