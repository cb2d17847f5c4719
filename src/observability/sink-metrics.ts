import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { BatchReport, SinkObserver } from '../sink/sink-observer';
import { METRIC_PREFIX, PHASE_DURATION_BUCKETS_SECONDS, PUBLISH_LATENCY_BUCKETS_SECONDS } from './metric-definitions';
import type { BuildInfo } from './build-info';
import { poolGauge, type PoolCounts } from './pool-gauge';

/**
 * Every metric of `dionysus-relay sink`, on a registry the caller passes in, under
 * `dionysus_relay_sink_`. Labels are bounded: topic (from the sink file), table (the mapped
 * tables), error_class (the closed set of codes), reason, partition (the topics' partitions).
 */

/** Where the consumer stands in each partition it owns, read on every scrape. */
export interface LagSource {
  /** Owned partitions with the next offset to apply (undefined before the first batch). */
  positions(): ReadonlyArray<{ topic: string; partition: number; nextOffset: number | undefined }>;
  highWatermark(topic: string, partition: number): number | undefined;
}

export interface SinkMetricsOptions {
  readonly topics: readonly string[];
  readonly tables: readonly string[];
  readonly buildInfo: BuildInfo;
  readonly defaultMetrics?: boolean;
}

export class SinkMetrics implements SinkObserver {
  private lagSource: LagSource | undefined;
  private pool: PoolCounts | undefined;
  private readonly messagesApplied: Counter<'topic'>;
  private readonly messagesSkipped: Counter<'topic' | 'reason'>;
  private readonly deadLetteredTotal: Counter<'topic' | 'error_class'>;
  private readonly recordsApplied: Counter<'table'>;
  private readonly recordsStale: Counter<'table'>;
  private readonly recordsPruned: Counter<'topic'>;
  private readonly retried: Counter<'topic'>;
  private readonly rebalances: Counter<'kind'>;
  private readonly applyDuration: Histogram<'topic'>;
  private readonly messageAge: Histogram<'topic'>;
  private readonly stopped: Gauge<'topic' | 'partition'>;

  constructor(registry: Registry, options: SinkMetricsOptions) {
    const registers = [registry];
    const name = (suffix: string): string => `${METRIC_PREFIX}sink_${suffix}`;
    this.messagesApplied = new Counter({ name: name('messages_applied_total'), help: 'Messages whose transaction committed (their records applied, or skipped by the guard).', labelNames: ['topic'], registers });
    this.messagesSkipped = new Counter({
      name: name('messages_skipped_total'),
      help: 'Messages or events with nothing to apply: duplicate (removed by the in-batch de-duplication), tombstone, unmapped_or_other (an event of a model without a mapping or ignored, or an event other than created/updated/destroyed without an inbox).',
      labelNames: ['topic', 'reason'],
      registers,
    });
    this.deadLetteredTotal = new Counter({ name: name('messages_dead_lettered_total'), help: 'Poison messages sent to the dead-letter topic.', labelNames: ['topic', 'error_class'], registers });
    this.recordsApplied = new Counter({ name: name('records_applied_total'), help: 'Records written (inserted, updated, cancelled or deleted) per synced table.', labelNames: ['table'], registers });
    this.recordsStale = new Counter({ name: name('records_stale_total'), help: 'Records skipped by the ordering guard (older than the stored one) per synced table.', labelNames: ['table'], registers });
    this.recordsPruned = new Counter({ name: name('records_pruned_total'), help: 'Local related records pruned (deleted or cancelled) because their parent no longer lists them.', labelNames: ['topic'], registers });
    this.retried = new Counter({ name: name('batches_retried_total'), help: 'Partition batches rolled back and applied again (database or broker trouble, a concurrent writer).', labelNames: ['topic'], registers });
    this.rebalances = new Counter({ name: name('rebalances_total'), help: 'Partitions assigned to or revoked from this sink.', labelNames: ['kind'], registers });
    this.applyDuration = new Histogram({ name: name('batch_apply_seconds'), help: 'Time to apply one partition batch, from BEGIN to COMMIT.', labelNames: ['topic'], buckets: PHASE_DURATION_BUCKETS_SECONDS, registers });
    this.messageAge = new Histogram({
      name: name('message_age_seconds'),
      help: 'Commit time of a message in the sink minus its Kafka timestamp (the relay\'s produce time): the Kafka-to-table latency.',
      labelNames: ['topic'],
      buckets: PUBLISH_LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.stopped = new Gauge({ name: name('partition_stopped'), help: '1 for a partition stopped at a poison message (on_poison: stop).', labelNames: ['topic', 'partition'], registers });
    const lag = (): LagSource | undefined => this.lagSource;
    new Gauge({
      name: name('consumer_lag'),
      help: 'Messages of an owned partition not yet applied: high watermark minus the next offset to apply.',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset();
        const source = lag();
        for (const p of source?.positions() ?? []) {
          const high = source?.highWatermark(p.topic, p.partition);
          if (high !== undefined && p.nextOffset !== undefined) this.set({ topic: p.topic, partition: String(p.partition) }, Math.max(0, high - p.nextOffset));
        }
      },
    });
    new Gauge({
      name: name('assigned_partitions'),
      help: 'Partitions this sink owns.',
      registers,
      collect() {
        this.set(lag()?.positions().length ?? 0);
      },
    });
    poolGauge(registry, name('pg_pool_connections'), () => this.pool);
    new Gauge({ name: name('build_info'), help: 'Always 1; labels say which version, Node.js and librdkafka run.', labelNames: ['version', 'node', 'librdkafka'], registers }).set({ ...options.buildInfo }, 1);
    for (const topic of options.topics) {
      this.messagesApplied.inc({ topic }, 0);
      this.retried.inc({ topic }, 0);
      this.applyDuration.zero({ topic });
    }
    for (const table of options.tables) {
      this.recordsApplied.inc({ table }, 0);
      this.recordsStale.inc({ table }, 0);
    }
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  }

  observeLag(source: LagSource): void {
    this.lagSource = source;
  }

  observePool(pool: PoolCounts): void {
    this.pool = pool;
  }

  roundFinished(): void {
    // The liveness heartbeat (health); nothing to count.
  }

  batchApplied(r: BatchReport): void {
    const topic = r.topic;
    this.messagesApplied.inc({ topic }, r.messages);
    if (r.duplicates > 0) this.messagesSkipped.inc({ topic, reason: 'duplicate' }, r.duplicates);
    if (r.tombstones > 0) this.messagesSkipped.inc({ topic, reason: 'tombstone' }, r.tombstones);
    if (r.skippedEvents > 0) this.messagesSkipped.inc({ topic, reason: 'unmapped_or_other' }, r.skippedEvents);
    for (const [table, n] of r.tally.applied) this.recordsApplied.inc({ table }, n);
    for (const [table, n] of r.tally.stale) this.recordsStale.inc({ table }, n);
    if (r.tally.pruned > 0) this.recordsPruned.inc({ topic }, r.tally.pruned);
    this.applyDuration.observe({ topic }, r.applySeconds);
    for (const age of r.ageSeconds) this.messageAge.observe({ topic }, age);
  }

  batchRetried(topic: string): void {
    this.retried.inc({ topic });
  }

  deadLettered(topic: string, code: string): void {
    this.deadLetteredTotal.inc({ topic, error_class: code });
  }

  partitionStopped(topic: string, partition: number): void {
    this.stopped.set({ topic, partition: String(partition) }, 1);
  }

  rebalanced(kind: 'assigned' | 'revoked', partitions: number): void {
    this.rebalances.inc({ kind }, partitions);
  }
}
