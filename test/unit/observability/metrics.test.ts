import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry, register as globalRegistry } from 'prom-client';
import type { BuildInfo } from '../../../src/observability/build-info';
import { RelayMetrics } from '../../../src/observability/metrics';
import { fanOut } from '../../../src/observability/events-fanout';

const BUILD: BuildInfo = { version: '1.2.3', node: 'v20.0.0', librdkafka: '2.12.0' };

function setup(topics: readonly string[] = ['ns_users', 'ns_orders']): { registry: Registry; metrics: RelayMetrics } {
  const registry = new Registry();
  return { registry, metrics: new RelayMetrics(registry, { topics, buildInfo: BUILD, defaultMetrics: false }) };
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** Every sample of `name` (histograms: `_bucket`, `_sum`, `_count` rows), collected as on a scrape. */
async function samples(registry: Registry, name: string): Promise<Sample[]> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `metric ${name} is registered`);
  return (await metric.get()).values as Sample[];
}

/** The value of the sample with exactly these labels (and this series name, for histograms). */
async function valueOf(registry: Registry, name: string, labels: Record<string, string | number>, series = name): Promise<number | undefined> {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = (await samples(registry, name)).find(
    (s) => (s.metricName ?? name) === series && JSON.stringify(Object.entries(s.labels).sort()) === wanted,
  );
  return found?.value;
}

describe('RelayMetrics as the loop observer', () => {
  test('series of every configured topic exist at 0 before the first row', async () => {
    const { registry } = setup();
    for (const topic of ['ns_users', 'ns_orders']) {
      assert.equal(await valueOf(registry, 'dionysus_relay_rows_published_total', { topic }), 0);
      assert.equal(await valueOf(registry, 'dionysus_relay_rows_given_up_total', { topic }), 0);
      assert.equal(await valueOf(registry, 'dionysus_relay_batches_abandoned_total', { topic }), 0);
      assert.equal(await valueOf(registry, 'dionysus_relay_publish_latency_seconds', { topic }, 'dionysus_relay_publish_latency_seconds_count'), 0);
    }
  });

  test('rowsPublished counts rows and observes each latency in the topic histogram', async () => {
    const { registry, metrics } = setup();
    metrics.rowsPublished('ns_users', [0.002, 3, 100]);
    metrics.rowsPublished('ns_users', []);
    const latency = 'dionysus_relay_publish_latency_seconds';
    assert.equal(await valueOf(registry, 'dionysus_relay_rows_published_total', { topic: 'ns_users' }), 3);
    assert.equal(await valueOf(registry, 'dionysus_relay_rows_published_total', { topic: 'ns_orders' }), 0);
    assert.equal(await valueOf(registry, latency, { topic: 'ns_users' }, `${latency}_count`), 3);
    const sum = await valueOf(registry, latency, { topic: 'ns_users' }, `${latency}_sum`);
    assert.ok(sum !== undefined && Math.abs(sum - 103.002) < 1e-9, `sum ${sum}`);
    assert.equal(await valueOf(registry, latency, { topic: 'ns_users', le: 0.005 }, `${latency}_bucket`), 1);
    assert.equal(await valueOf(registry, latency, { topic: 'ns_users', le: 5 }, `${latency}_bucket`), 2);
    assert.equal(await valueOf(registry, latency, { topic: 'ns_users', le: 1800 }, `${latency}_bucket`), 3);
  });

  test('rowsFailed counts per topic and error class; given up and abandoned per topic', async () => {
    const { registry, metrics } = setup();
    metrics.rowsFailed('ns_users', ['SERIALIZER_FAILED', 'MESSAGE_TOO_LARGE', 'SERIALIZER_FAILED']);
    metrics.rowsGivenUp('ns_users', 2);
    metrics.rowsHeldBack('ns_orders', 3);
    metrics.batchAbandoned('ns_orders', 'connection reset by peer at 10.0.0.7');
    const failed = 'dionysus_relay_rows_failed_total';
    assert.equal(await valueOf(registry, failed, { topic: 'ns_users', error_class: 'SERIALIZER_FAILED' }), 2);
    assert.equal(await valueOf(registry, failed, { topic: 'ns_users', error_class: 'MESSAGE_TOO_LARGE' }), 1);
    assert.equal(await valueOf(registry, 'dionysus_relay_rows_given_up_total', { topic: 'ns_users' }), 2);
    assert.equal(await valueOf(registry, 'dionysus_relay_rows_held_total', { topic: 'ns_orders' }), 3);
    assert.equal(await valueOf(registry, 'dionysus_relay_rows_held_total', { topic: 'ns_users' }), 0);
    assert.equal(await valueOf(registry, 'dionysus_relay_batches_abandoned_total', { topic: 'ns_orders' }), 1);
    // The free-text reason never becomes a label.
    for (const s of await samples(registry, 'dionysus_relay_batches_abandoned_total')) assert.deepEqual(Object.keys(s.labels), ['topic']);
  });

  test('batch size per claimed batch and phase durations per phase', async () => {
    const { registry, metrics } = setup();
    metrics.claimFinished();
    metrics.batchClaimed('ns_users', 7);
    metrics.batchClaimed('ns_users', 500);
    metrics.phaseFinished('claim', 0.004);
    metrics.phaseFinished('produce', 0.2);
    const size = 'dionysus_relay_batch_size';
    assert.equal(await valueOf(registry, size, {}, `${size}_count`), 2);
    assert.equal(await valueOf(registry, size, {}, `${size}_sum`), 507);
    assert.equal(await valueOf(registry, size, { le: 10 }, `${size}_bucket`), 1);
    const phase = 'dionysus_relay_batch_phase_duration_seconds';
    assert.equal(await valueOf(registry, phase, { phase: 'claim' }, `${phase}_count`), 1);
    assert.equal(await valueOf(registry, phase, { phase: 'produce' }, `${phase}_sum`), 0.2);
    assert.equal(await valueOf(registry, phase, { phase: 'mark' }, `${phase}_count`), undefined);
  });

  test('a throwing observer beside the metrics does not keep them from counting', async () => {
    const { registry, metrics } = setup();
    const broken = {
      rowsPublished: (): void => {
        throw new Error('broken observer');
      },
    };
    const observer = fanOut(broken, metrics);
    observer.rowsPublished('ns_users', [1, 2]);
    assert.equal(await valueOf(registry, 'dionysus_relay_rows_published_total', { topic: 'ns_users' }), 2);
  });
});

describe('RelayMetrics from timers and on scrape', () => {
  test('backlog: configured topics missing from the poll read 0', async () => {
    const { registry, metrics } = setup();
    metrics.recordBacklog([{ topic: 'ns_users', pending: 42, oldestAgeSeconds: 12.5, givenUp: 0 }]);
    assert.equal(await valueOf(registry, 'dionysus_relay_pending_rows', { topic: 'ns_users' }), 42);
    assert.equal(await valueOf(registry, 'dionysus_relay_oldest_pending_age_seconds', { topic: 'ns_users' }), 12.5);
    assert.equal(await valueOf(registry, 'dionysus_relay_pending_rows', { topic: 'ns_orders' }), 0);
    assert.equal(await valueOf(registry, 'dionysus_relay_oldest_pending_age_seconds', { topic: 'ns_orders' }), 0);
    metrics.recordBacklog([]);
    assert.equal(await valueOf(registry, 'dionysus_relay_pending_rows', { topic: 'ns_users' }), 0);
  });

  test('backlog: pending rows of topics the relay does not claim go to the unconfigured gauge, until they drain', async () => {
    const registry = new Registry();
    const metrics = new RelayMetrics(registry, {
      topics: ['ns_users'],
      claimedTopics: ['ns_users', '__outbox_observer__'],
      buildInfo: BUILD,
      defaultMetrics: false,
    });
    metrics.recordBacklog([
      { topic: 'ns_users', pending: 3, oldestAgeSeconds: 1, givenUp: 0 },
      { topic: '__outbox_observer__', pending: 2, oldestAgeSeconds: 1, givenUp: 0 },
      { topic: 'other_app', pending: 7, oldestAgeSeconds: 60, givenUp: 0 },
    ]);
    assert.equal(await valueOf(registry, 'dionysus_relay_unconfigured_pending_rows', { topic: 'other_app' }), 7);
    assert.equal(await valueOf(registry, 'dionysus_relay_unconfigured_pending_rows', { topic: 'ns_users' }), undefined);
    assert.equal(await valueOf(registry, 'dionysus_relay_unconfigured_pending_rows', { topic: '__outbox_observer__' }), undefined);
    assert.equal(await valueOf(registry, 'dionysus_relay_pending_rows', { topic: 'other_app' }), undefined);
    metrics.recordBacklog([{ topic: 'ns_users', pending: 1, oldestAgeSeconds: 1, givenUp: 0 }]);
    assert.equal(await valueOf(registry, 'dionysus_relay_unconfigured_pending_rows', { topic: 'other_app' }), undefined);
  });

  test('backlog: given-up rows per claimed topic (the observer pseudo-topic included), 0 when none', async () => {
    const registry = new Registry();
    const metrics = new RelayMetrics(registry, {
      topics: ['ns_users', 'ns_orders'],
      claimedTopics: ['ns_users', 'ns_orders', '__outbox_observer__'],
      buildInfo: BUILD,
      defaultMetrics: false,
    });
    metrics.recordBacklog([
      // Only given-up rows: nothing pending, no oldest age.
      { topic: 'ns_users', pending: 0, oldestAgeSeconds: 0, givenUp: 4 },
      { topic: '__outbox_observer__', pending: 1, oldestAgeSeconds: 1, givenUp: 1 },
      { topic: 'other_app', pending: 0, oldestAgeSeconds: 0, givenUp: 9 },
    ]);
    assert.equal(await valueOf(registry, 'dionysus_relay_given_up_rows', { topic: 'ns_users' }), 4);
    assert.equal(await valueOf(registry, 'dionysus_relay_given_up_rows', { topic: 'ns_orders' }), 0);
    assert.equal(await valueOf(registry, 'dionysus_relay_given_up_rows', { topic: '__outbox_observer__' }), 1);
    assert.equal(await valueOf(registry, 'dionysus_relay_given_up_rows', { topic: 'other_app' }), undefined);
    assert.equal(await valueOf(registry, 'dionysus_relay_pending_rows', { topic: 'ns_users' }), 0);
    // Another application's topic with only given-up rows has nothing pending to report.
    assert.equal(await valueOf(registry, 'dionysus_relay_unconfigured_pending_rows', { topic: 'other_app' }), undefined);
    metrics.recordBacklog([]);
    assert.equal(await valueOf(registry, 'dionysus_relay_given_up_rows', { topic: 'ns_users' }), 0);
  });

  test('outbox table health gauges, NaN when never vacuumed', async () => {
    const { registry, metrics } = setup();
    metrics.recordTableHealth({ deadTuples: 17, lastVacuumAgeSeconds: Number.NaN, tableBytes: 8192, indexBytes: 16384 });
    assert.equal(await valueOf(registry, 'dionysus_relay_outbox_dead_tuples', {}), 17);
    assert.ok(Number.isNaN(await valueOf(registry, 'dionysus_relay_outbox_last_autovacuum_age_seconds', {})));
    assert.equal(await valueOf(registry, 'dionysus_relay_outbox_table_bytes', {}), 8192);
    assert.equal(await valueOf(registry, 'dionysus_relay_outbox_index_bytes', {}), 16384);
    // prom-client prints NaN as "Nan"; Prometheus parses it case-insensitively (strconv.ParseFloat).
    assert.match(await registry.metrics(), /^dionysus_relay_outbox_last_autovacuum_age_seconds nan$/im);
  });

  test('librdkafka statistics: queue size and broker RTT in seconds, kept while idle', async () => {
    const { registry, metrics } = setup();
    const stats = (cnt: number, avg: number, brokers = ['kafka-1:9092/1']): unknown => ({
      msg_cnt: 12,
      brokers: Object.fromEntries([
        ...brokers.map((name) => [name, { name, source: 'learned', rtt: { avg, cnt } }]),
        [':0/internal', { name: ':0/internal', source: 'internal', rtt: { avg: 0, cnt: 0 } }],
      ]),
    });
    metrics.recordKafkaStats(stats(3, 2500));
    const rtt = 'dionysus_relay_kafka_broker_rtt_seconds';
    assert.equal(await valueOf(registry, 'dionysus_relay_kafka_queue_messages', {}), 12);
    assert.equal(await valueOf(registry, rtt, { broker: 'kafka-1:9092/1' }), 0.0025);
    assert.equal((await samples(registry, rtt)).length, 1, 'the internal broker is left out');
    metrics.recordKafkaStats(stats(0, 0));
    assert.equal(await valueOf(registry, rtt, { broker: 'kafka-1:9092/1' }), 0.0025, 'an idle window keeps the last measurement');
    metrics.recordKafkaStats(stats(2, 1000, ['kafka-2:9092/2']));
    assert.deepEqual(
      (await samples(registry, rtt)).map((s) => [s.labels['broker'], s.value]),
      [['kafka-2:9092/2', 0.001]],
      'a broker librdkafka forgot drops out',
    );
    metrics.recordKafkaStats('not statistics');
    assert.equal(await valueOf(registry, 'dionysus_relay_kafka_queue_messages', {}), 12);
  });

  test('in-flight messages and pool connections are read from their sources on scrape', async () => {
    const { registry, metrics } = setup();
    const pool = { totalCount: 4, idleCount: 1, waitingCount: 0 };
    const publisher = { inflight: 0 };
    metrics.observePool(pool);
    metrics.observePublisher(publisher);
    pool.totalCount = 6;
    pool.waitingCount = 2;
    publisher.inflight = 250;
    assert.equal(await valueOf(registry, 'dionysus_relay_inflight_messages', {}), 250);
    assert.equal(await valueOf(registry, 'dionysus_relay_pg_pool_connections', { state: 'active' }), 5);
    assert.equal(await valueOf(registry, 'dionysus_relay_pg_pool_connections', { state: 'total' }), undefined);
    assert.equal(await valueOf(registry, 'dionysus_relay_pg_pool_connections', { state: 'idle' }), 1);
    assert.equal(await valueOf(registry, 'dionysus_relay_pg_pool_connections', { state: 'waiting' }), 2);
  });

  test('build info is 1 with the versions as labels', async () => {
    const { registry } = setup();
    assert.equal(await valueOf(registry, 'dionysus_relay_build_info', { version: '1.2.3', node: 'v20.0.0', librdkafka: '2.12.0' }), 1);
  });

  test('default process metrics go to the given registry, never the global one', async () => {
    const registry = new Registry();
    new RelayMetrics(registry, { topics: ['t'], buildInfo: BUILD });
    const text = await registry.metrics();
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_heap_size_total_bytes /m);
    assert.doesNotMatch(await globalRegistry.metrics(), /dionysus_relay_/);
    assert.match(registry.contentType, /^text\/plain/);
  });
});
