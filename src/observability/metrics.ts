import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { BatchPhase, RelayEvents } from '../relay/relay-events';
import type { BuildInfo } from './build-info';
import { summarizeKafkaStats } from './kafka-stats';
import { METRICS, METRIC_PREFIX, type MetricDefinition } from './metric-definitions';
import { poolGauge, type PoolCounts } from './pool-gauge';

/** What prom-client's metric constructors take, for one definition on one registry. */
interface MetricConfiguration<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

/** One topic's backlog as the poller read it. */
export interface TopicBacklog {
  readonly topic: string;
  /** Unpublished rows, given-up rows excluded. */
  readonly pending: number;
  /** Age of the oldest pending row; 0 when none. */
  readonly oldestAgeSeconds: number;
  /** Rows given up (retry_at = 'infinity'). */
  readonly givenUp: number;
}

export interface TableHealth {
  readonly deadTuples: number;
  /** Seconds since the last (auto)vacuum; NaN when the table was never vacuumed (since a stats reset). */
  readonly lastVacuumAgeSeconds: number;
  readonly tableBytes: number;
  readonly indexBytes: number;
}

/** dependency_up's values: true when the dependency answers. */
export interface DependencyStates {
  readonly postgres: boolean;
  readonly kafka: boolean;
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

/**
 * Every metric of the relay (metric-definitions.ts), created on a registry the caller passes in
 * (never prom-client's global one). Labels are bounded: topic (from the topics file), error_class
 * (the closed set of error codes), phase, broker, pool state; never a row or resource id.
 *
 * Three ways values arrive:
 * - pushed by the relay loop through the RelayEvents methods (counters, histograms);
 * - pushed by timers: librdkafka statistics (`recordKafkaStats`), the backlog poller
 *   (`recordBacklog`, `recordTableHealth`);
 * - pulled on scrape from the sources attached with `observePool` / `observePublisher`.
 */
export class RelayMetrics implements RelayEvents {
  private readonly topics: readonly string[];
  private readonly claimedTopics: ReadonlySet<string>;
  private pool: PoolCounts | undefined;
  private publisher: { readonly inflight: number } | undefined;
  private dependencies: (() => DependencyStates) | undefined;
  private lastRtt = new Map<string, number>();

  private readonly published: Counter<'topic'>;
  private readonly failed: Counter<'topic' | 'error_class'>;
  private readonly givenUp: Counter<'topic'>;
  private readonly heldBack: Counter<'topic'>;
  private readonly abandoned: Counter<'topic'>;
  private readonly latency: Histogram<'topic'>;
  private readonly phaseDuration: Histogram<'phase'>;
  private readonly batchSize: Histogram<never>;
  private readonly pending: Gauge<'topic'>;
  private readonly oldestAge: Gauge<'topic'>;
  private readonly unconfigured: Gauge<'topic'>;
  private readonly givenUpRows: Gauge<'topic'>;
  private readonly kafkaQueue: Gauge;
  private readonly brokerRtt: Gauge<'broker'>;
  private readonly notifications: Counter<never>;
  private readonly deadTuples: Gauge;
  private readonly vacuumAge: Gauge;
  private readonly tableBytes: Gauge;
  private readonly indexBytes: Gauge;
  private readonly active: Gauge;

  constructor(registry: Registry, options: RelayMetricsOptions) {
    this.topics = [...options.topics];
    this.claimedTopics = new Set(options.claimedTopics ?? options.topics);
    const on = <L extends string>(d: MetricDefinition<L>): MetricConfiguration<L> => ({
      name: METRIC_PREFIX + d.name,
      help: d.help,
      labelNames: d.labelNames ?? [],
      registers: [registry],
    });
    const buckets = (d: MetricDefinition<string>): number[] => [...(d.buckets ?? [])];
    this.published = new Counter(on(METRICS.published));
    this.failed = new Counter(on(METRICS.failed));
    this.givenUp = new Counter(on(METRICS.givenUp));
    this.heldBack = new Counter(on(METRICS.heldBack));
    this.abandoned = new Counter(on(METRICS.abandoned));
    this.latency = new Histogram({ ...on(METRICS.latency), buckets: buckets(METRICS.latency) });
    this.phaseDuration = new Histogram({ ...on(METRICS.phaseDuration), buckets: buckets(METRICS.phaseDuration) });
    this.batchSize = new Histogram({ ...on(METRICS.batchSize), buckets: buckets(METRICS.batchSize) });
    this.pending = new Gauge(on(METRICS.pending));
    this.oldestAge = new Gauge(on(METRICS.oldestAge));
    this.unconfigured = new Gauge(on(METRICS.unconfigured));
    this.givenUpRows = new Gauge(on(METRICS.givenUpRows));
    this.kafkaQueue = new Gauge(on(METRICS.kafkaQueue));
    this.brokerRtt = new Gauge(on(METRICS.brokerRtt));
    this.notifications = new Counter(on(METRICS.notifications));
    const publisherSource = (): { readonly inflight: number } | undefined => this.publisher;
    new Gauge({
      ...on(METRICS.inflight),
      collect() {
        const publisher = publisherSource();
        if (publisher !== undefined) this.set(publisher.inflight);
      },
    });
    poolGauge(registry, METRIC_PREFIX + METRICS.poolConnections.name, () => this.pool);
    const dependencySource = (): DependencyStates | undefined => this.dependencies?.();
    new Gauge({
      ...on(METRICS.dependencyUp),
      collect() {
        const states = dependencySource();
        if (states === undefined) return;
        for (const [dependency, up] of Object.entries(states)) this.set({ dependency }, up ? 1 : 0);
      },
    });
    this.deadTuples = new Gauge(on(METRICS.deadTuples));
    this.vacuumAge = new Gauge(on(METRICS.vacuumAge));
    this.tableBytes = new Gauge(on(METRICS.tableBytes));
    this.indexBytes = new Gauge(on(METRICS.indexBytes));
    this.active = new Gauge(on(METRICS.active));
    this.active.set(0);
    new Gauge(on(METRICS.buildInfo)).set({ ...options.buildInfo }, 1);

    // Series of every configured topic exist from the start, so rate()/increase() see the first row.
    for (const topic of this.topics) {
      this.published.inc({ topic }, 0);
      this.givenUp.inc({ topic }, 0);
      this.heldBack.inc({ topic }, 0);
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

  /** A NOTIFY of the insert trigger arrived (postgres/notify-listener.ts). */
  notificationReceived(): void {
    this.notifications.inc();
  }

  /** Whether PostgreSQL and Kafka answer (readiness's view), read on every scrape. */
  observeDependencies(source: () => DependencyStates): void {
    this.dependencies = source;
  }

  // ---------------------------------------------------------------- RelayEvents

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

  rowsHeldBack(topic: string, count: number): void {
    this.heldBack.inc({ topic }, count);
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
   * The backlog poll's rows, every topic with unpublished rows; configured topics missing from them
   * have nothing pending or given up, and unclaimed topics that drained lose their series. Given-up
   * rows are reported for every topic this relay claims (the observer pseudo-topic included).
   */
  recordBacklog(rows: readonly TopicBacklog[]): void {
    const byTopic = new Map(rows.map((r) => [r.topic, r]));
    for (const topic of this.topics) {
      const row = byTopic.get(topic);
      this.pending.set({ topic }, row?.pending ?? 0);
      this.oldestAge.set({ topic }, row === undefined ? 0 : Math.max(0, row.oldestAgeSeconds));
    }
    for (const topic of this.claimedTopics) this.givenUpRows.set({ topic }, byTopic.get(topic)?.givenUp ?? 0);
    this.unconfigured.reset();
    for (const row of rows) {
      if (!this.claimedTopics.has(row.topic) && row.pending > 0) this.unconfigured.set({ topic: row.topic }, row.pending);
    }
  }

  /** The relay may claim (it holds an active slot, or there is no limit) or stands by. */
  recordActive(active: boolean): void {
    this.active.set(active ? 1 : 0);
  }

  recordTableHealth(health: TableHealth): void {
    this.deadTuples.set(health.deadTuples);
    this.vacuumAge.set(health.lastVacuumAgeSeconds);
    this.tableBytes.set(health.tableBytes);
    this.indexBytes.set(health.indexBytes);
  }
}
