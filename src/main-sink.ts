import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import type { CliArgs } from './cli/args';
import { loadSettings, type Settings } from './config/settings';
import { settingsOverrides } from './config/load-configuration';
import { loadSinkFile } from './config/sink-file';
import type { SinkConfig } from './config/sink-types';
import { RelayError } from './errors';
import { SinkConsumer, type RebalanceHandler } from './kafka/consumer';
import { consumerConfig, deadLetterProducerConfig } from './kafka/consumer-config';
import { DeadLetterProducer } from './kafka/dead-letter-producer';
import { handleSignals } from './lifecycle/signals';
import { ShutdownCoordinator } from './lifecycle/shutdown';
import { DatabaseProbe } from './observability/database-probe';
import { HealthMonitor } from './observability/health';
import { HttpServer } from './observability/http-server';
import { createLogger, type Logger } from './observability/logger';
import { readBuildInfo } from './observability/build-info';
import { SinkMetrics } from './observability/sink-metrics';
import { connectFailureReason, createPool, redactUrl } from './postgres/pool';
import { readSinkCatalog } from './postgres/sink-catalog';
import { SinkStore } from './postgres/sink-store';
import { buildResolver } from './sink/apply-target';
import { applyPartitionBatch, type PartitionBatchDeps } from './sink/partition-batch';
import { SinkLoop } from './sink/sink-loop';
import { fanOutSink } from './sink/sink-observer';
import type { Pool } from 'pg';

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

/** Connects, then reads the mapped tables; problems stop the start naming the file and key. */
async function openDatabase(settings: Settings, sink: SinkConfig, instance: string, logger: Logger): Promise<{ pool: Pool; resolve: ReturnType<typeof buildResolver>; tables: string[] }> {
  const pool = createPool({ ...settings.database, poolSize: Math.max(settings.database.poolSize, settings.sink.concurrency + 2) }, `dionysus-relay-sink:${instance}`);
  pool.on('error', (err) => logger.warn({ err: { message: err.message } }, 'idle PostgreSQL connection lost'));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new RelayError('POSTGRES_UNAVAILABLE', `cannot connect to PostgreSQL at ${redactUrl(settings.database.url)} (DATABASE_URL): ${connectFailureReason(err)}`, { cause: err });
  }
  const catalog = await readSinkCatalog(pool, sink).catch(async (err: unknown) => {
    await pool.end().catch(() => undefined);
    throw err;
  });
  if (catalog.problems.length > 0) {
    await pool.end().catch(() => undefined);
    throw new RelayError('SINK_FILE_INVALID', catalog.problems.join('\n'), { context: { file: sink.file } });
  }
  for (const note of catalog.notes) logger.info(note);
  return { pool, resolve: buildResolver(sink.models, catalog.shapes), tables: [...catalog.shapes.keys()] };
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
  const { pool, resolve, tables } = await openDatabase(settings, sink, instance, logger);
  const registry = new Registry();
  const metrics = new SinkMetrics(registry, { topics: sink.topics.map((t) => t.name), tables, buildInfo: readBuildInfo() });
  metrics.observePool(pool);
  const deadLetters = sink.topics.some((t) => t.onPoison === 'dead_letter') ? new DeadLetterProducer(deadLetterProducerConfig(settings.kafka), sink.groupId) : undefined;
  try {
    await deadLetters?.start();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new RelayError('KAFKA_UNAVAILABLE', `${(err as Error).message} (KAFKA_BROKERS=${settings.kafka.brokers})`, { cause: err });
  }
  const store = new SinkStore(pool, sink.inboxTable);
  const deps: PartitionBatchDeps = {
    transaction: (lockKey, body) => store.transaction(lockKey, body),
    deadLetters,
    resolve,
    inbox: sink.inboxTable !== undefined,
    groupId: sink.groupId,
    now: Date.now,
  };
  const shutdown = new ShutdownCoordinator(logger, settings.sink.shutdownGraceMs);
  // The loop owns the partitions; the consumer hears of rebalances first and hands them over.
  const handler: RebalanceHandler = { assigned: (p) => loop.assigned(p), revoking: (p) => loop.revoking(p) };
  const consumer: SinkConsumer = new SinkConsumer({ config: consumerConfig(settings.kafka, sink), handler, logger });
  const databaseProbe = new DatabaseProbe(pool, { intervalMs: settings.health.readinessIntervalMs }, logger);
  const health = new HealthMonitor({
    livenessTimeoutMs: settings.health.livenessTimeoutMs,
    database: databaseProbe,
    kafka: consumer,
    wording: { loop: 'sink loop', heartbeat: 'sink round', kafkaClient: 'consumer' },
  });
  const loop: SinkLoop = new SinkLoop(
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
  metrics.observeLag({
    positions: () => loop.partitions.all().map((s) => ({ topic: s.topic, partition: s.partition, nextOffset: s.nextOffset ?? s.firstFetched })),
    highWatermark: (topic, partition) => consumer.highWatermark(topic, partition),
  });
  const http = new HttpServer(settings.http, registry, health, logger);
  // Drain: the round in flight finishes and its offsets are committed, then the consumer leaves the
  // group (its partitions go to the other sinks). Release: what uses the pool stops before the pool.
  shutdown.onDrain({ name: 'sink loop', stop: () => loop.stop() });
  shutdown.onDrain({ name: 'kafka consumer', stop: () => consumer.stop() });
  shutdown.onRelease({ name: 'dead-letter producer', stop: () => deadLetters?.stop() ?? Promise.resolve() });
  shutdown.onRelease({ name: 'readiness probe', stop: () => databaseProbe.stop() });
  shutdown.onRelease({ name: 'postgres pool', stop: () => pool.end() });
  shutdown.onRelease({ name: 'http server', stop: () => http.stop() });

  try {
    await http.start();
    await consumer.start(sink.topics.map((t) => t.name));
  } catch (err) {
    await shutdown.shutdown('start failed');
    throw err;
  }
  loop.start();
  health.markStarted();
  databaseProbe.start();
  logger.info({ topics: sink.topics.map((t) => t.name), tables }, 'sink running');

  const reason = await new Promise<string>((resolveSignal) => handleSignals((signal) => resolveSignal(signal)));
  const outcome = await shutdown.shutdown(reason);
  return outcome === 'clean' ? 0 : 1;
}
