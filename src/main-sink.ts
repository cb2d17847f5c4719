import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import type { CliArgs } from './cli/args';
import { loadSettings, type Settings } from './config/settings';
import { settingsOverrides } from './config/load-configuration';
import { loadSinkFile } from './config/sink-file';
import type { SinkConfig } from './config/sink-types';
import { RelayError, errorMessage } from './errors';
import { SinkConsumer, type RebalanceHandler } from './kafka/consumer';
import { consumerConfig, deadLetterProducerConfig } from './kafka/consumer-config';
import { DeadLetterProducer } from './kafka/dead-letter-producer';
import { DependencyWait } from './lifecycle/dependency-wait';
import { jitterRandom } from './lifecycle/jitter';
import { handleSignals } from './lifecycle/signals';
import { ShutdownCoordinator } from './lifecycle/shutdown';
import { DatabaseProbe } from './observability/database-probe';
import { HealthMonitor } from './observability/health';
import { HttpServer } from './observability/http-server';
import { createLogger } from './observability/logger';
import { readBuildInfo } from './observability/build-info';
import { SinkMetrics } from './observability/sink-metrics';
import { createPool } from './postgres/pool';
import type { SinkCatalog } from './postgres/sink-catalog';
import { SinkStore } from './postgres/sink-store';
import { buildResolver } from './sink/apply-target';
import { applyPartitionBatch, type PartitionBatchDeps } from './sink/partition-batch';
import { SinkLoop } from './sink/sink-loop';
import { reachSinkDependencies } from './sink/sink-dependencies';
import { fanOutSink } from './sink/sink-observer';

/** Settings and the sink file for `sink` and `check --sink`: validated once, then trusted. */
export function loadSinkConfiguration(args: CliArgs, env: NodeJS.ProcessEnv): { settings: Settings; sink: SinkConfig } {
  const settings = loadSettings({
    env,
    configFile: args.configFile,
    overrides: {
      ...settingsOverrides(args),
      'sink.file': args.sinkFile === undefined ? undefined : { flag: '--sink', value: args.sinkFile },
    },
  });
  return { settings, sink: loadSinkFile(settings.sink.file) };
}

/**
 * The composition root of `dionysus-relay sink`: settings and sink file, logger, pool and table
 * catalog, metrics, dead-letter producer, store, consumer, loop, health and HTTP server, shutdown.
 * Holds no logic of its own. Returns the process exit code.
 */
export async function runSink(args: CliArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const { settings, sink } = loadSinkConfiguration(args, env);
  const logger = createLogger(settings.log).child({ component: 'sink', group: sink.groupId });
  const instance = randomBytes(6).toString('hex');
  const pool = createPool({ ...settings.database, poolSize: Math.max(settings.database.poolSize, settings.sink.concurrency + 2) }, `dionysus-relay-sink:${instance}`);
  pool.on('error', (err) => logger.warn({ err: { message: err.message } }, 'idle PostgreSQL connection lost'));
  const registry = new Registry();
  const deadLetters = sink.topics.some((t) => t.onPoison === 'dead_letter') ? new DeadLetterProducer(deadLetterProducerConfig(settings.kafka), sink.groupId) : undefined;
  const shutdown = new ShutdownCoordinator(logger, settings.sink.shutdownGraceMs);
  // The loop owns the partitions; the consumer hears of rebalances first and hands them over. It
  // joins the group only once the loop exists (after PostgreSQL and Kafka answered).
  let loop: SinkLoop | undefined = undefined;
  const handler: RebalanceHandler = { assigned: (p) => loop?.assigned(p), revoking: (p) => loop?.revoking(p) ?? Promise.resolve() };
  const consumer: SinkConsumer = new SinkConsumer({ config: consumerConfig(settings.kafka, sink), handler, logger });
  const databaseProbe = new DatabaseProbe(pool, { intervalMs: settings.health.readinessIntervalMs }, logger);
  const waiting = new DependencyWait({ maxRetryMs: settings.relay.startRetryMaxMs, random: jitterRandom, logger });
  const health = new HealthMonitor({
    livenessTimeoutMs: settings.health.livenessTimeoutMs,
    database: databaseProbe,
    kafka: consumer,
    startup: waiting,
    wording: { loop: 'sink loop', heartbeat: 'sink round', kafkaClient: 'consumer' },
  });
  const http = new HttpServer(settings.http, registry, health, logger);
  let requestStop: (reason: string) => void = () => undefined;
  const stopSignal = new Promise<string>((resolve) => {
    requestStop = resolve;
  });
  const removeHandlers = handleSignals((signal) => {
    waiting.stop();
    requestStop(signal);
  });
  // Drain: the round in flight finishes and its offsets are committed, then the consumer leaves the
  // group (its partitions go to the other sinks). Release: what uses the pool stops before the pool.
  shutdown.onDrain({ name: 'sink loop', stop: () => loop?.stop() ?? Promise.resolve() });
  shutdown.onDrain({ name: 'kafka consumer', stop: () => consumer.stop() });
  shutdown.onRelease({ name: 'dead-letter producer', stop: () => deadLetters?.stop() ?? Promise.resolve() });
  shutdown.onRelease({ name: 'readiness probe', stop: () => databaseProbe.stop() });
  shutdown.onRelease({ name: 'postgres pool', stop: () => pool.end() });
  shutdown.onRelease({ name: 'http server', stop: () => http.stop() });

  // /healthz and /readyz answer while the sink waits for PostgreSQL and Kafka.
  let catalog: SinkCatalog | 'stopped';
  try {
    await http.start();
    catalog = await reachSinkDependencies({ pool, sink, deadLetters, databaseUrl: settings.database.url, brokers: settings.kafka.brokers }, waiting);
  } catch (err) {
    removeHandlers();
    await shutdown.shutdown('start failed');
    throw err;
  }
  if (catalog === 'stopped') {
    removeHandlers();
    await shutdown.shutdown('stopped while waiting for PostgreSQL and Kafka');
    logger.info('stopped while waiting for PostgreSQL and Kafka');
    return 0;
  }
  for (const note of catalog.notes) logger.info(note);
  const tables = [...catalog.shapes.keys()];
  const metrics = new SinkMetrics(registry, { topics: sink.topics.map((t) => t.name), tables, buildInfo: readBuildInfo() });
  metrics.observePool(pool);
  const store = new SinkStore(pool, sink.inboxTable);
  const deps: PartitionBatchDeps = {
    transaction: (lockKey, body) => store.transaction(lockKey, body),
    deadLetters,
    resolve: buildResolver(sink.models, catalog.shapes),
    inbox: sink.inboxTable !== undefined,
    groupId: sink.groupId,
    now: Date.now,
  };
  const running = new SinkLoop(
    {
      consumer,
      topics: sink.byName,
      apply: (messages, topic) => applyPartitionBatch(messages, topic, deps),
      observer: fanOutSink(metrics, { roundFinished: () => health.claimFinished() }),
      logger,
    },
    {
      maxBatchMessages: settings.sink.maxBatchMessages,
      pollWaitMs: settings.sink.pollWaitMs,
      concurrency: settings.sink.concurrency,
      errorBackoffMs: settings.sink.errorBackoffMs,
    },
  );
  loop = running;
  metrics.observeLag({
    positions: () => running.partitions.all().map((s) => ({ topic: s.topic, partition: s.partition, nextOffset: s.nextOffset ?? s.firstFetched })),
    highWatermark: (topic, partition) => consumer.highWatermark(topic, partition),
  });
  try {
    await consumer.start(sink.topics.map((t) => t.name));
  } catch (err) {
    removeHandlers();
    await shutdown.shutdown('start failed');
    throw new RelayError('KAFKA_UNAVAILABLE', `${errorMessage(err)} (KAFKA_BROKERS=${settings.kafka.brokers})`, { cause: err });
  }
  running.start();
  health.markStarted();
  databaseProbe.start();
  logger.info({ topics: sink.topics.map((t) => t.name), tables }, 'sink running');

  const reason = await stopSignal;
  const outcome = await shutdown.shutdown(reason);
  return outcome === 'clean' ? 0 : 1;
}
