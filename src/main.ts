import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Pool } from 'pg';
import type { CliArgs } from './cli/args';
import { loadConfiguration } from './config/load-configuration';
import type { Settings } from './config/settings';
import { claimTopics, type TopicsConfig } from './config/topics-types';
import { parseDuration } from './domain/duration';
import { KafkaPublisher } from './kafka/publisher';
import { producerConfig } from './kafka/librdkafka-config';
import { DependencyWait } from './lifecycle/dependency-wait';
import { jitterRandom } from './lifecycle/jitter';
import { handleSignals } from './lifecycle/signals';
import { ShutdownCoordinator } from './lifecycle/shutdown';
import { BacklogPoller } from './observability/backlog-poller';
import { CompatHealthFile } from './observability/compat-health-file';
import { DatabaseProbe } from './observability/database-probe';
import { HealthMonitor } from './observability/health';
import { HttpServer } from './observability/http-server';
import { createLogger } from './observability/logger';
import { readBuildInfo } from './observability/build-info';
import { RelayMetrics } from './observability/metrics';
import { fanOut } from './observability/events-fanout';
import { OutboxStore } from './postgres/outbox-store';
import { qualifiedTable } from './postgres/identifiers';
import { NotifyListener } from './postgres/notify-listener';
import { retryWaitIndexName, strictRetryIndexNote } from './postgres/live-checks';
import { connectionConfig, createPool, redactUrl } from './postgres/pool';
import { CrashTracker } from './postgres/crash-tracker';
import { DependencyResolver } from './postgres/dependency-resolver';
import { ObserverResolver } from './postgres/observer-resolver';
import { SerializerLoader } from './postgres/serializer-loader';
import { PgSlotSession } from './postgres/slot-session';
import { ActiveSlot } from './relay/active-slot';
import { connectDependencies } from './relay/dependency-start';
import { lockPlanAtStart } from './relay/lock-plan';
import { RelayLoop } from './relay/relay-loop';
import { OutboxRetention } from './relay/retention';

/** One attempt of a waiting `run` to reach Kafka: short, so that the wait reacts when it comes up. */
const KAFKA_CONNECT_ATTEMPT_MS = 5_000;

/** Exit code of a relay whose producer lost its brokers (sysexits EX_TEMPFAIL): restart it. */
export const STALLED_EXIT_CODE = 75;

/** How often a standby looks for a free active slot, and an active relay checks its slot connection. */
const SLOT_POLL_INTERVAL_MS = 1000;

/** Strict topics without the optional retry-wait index pay for their whole backlog on every claim. */
async function warnAboutStrictBacklogWalk(logger: Logger, settings: Settings, topics: TopicsConfig, pool: Pool): Promise<void> {
  const strict = topics.topics.filter((t) => t.ordering === 'strict').map((t) => t.name);
  if (strict.length === 0) return;
  if ((await retryWaitIndexName(pool, settings.database.schema, settings.database.table)) === undefined) {
    logger.warn({ topics: strict }, strictRetryIndexNote(strict, undefined));
  }
}

/**
 * The composition root of `dionysus-relay run`: builds every component in order, starts them,
 * and waits for a signal (or for idleness with --exit-when-idle). Holds no logic of its own.
 * Returns the process exit code.
 */
export async function runRelay(args: CliArgs, env: NodeJS.ProcessEnv): Promise<number> {
  const { settings, topics } = loadConfiguration(args, env);
  const logger = createLogger(settings.log);
  const topicNames = topics.topics.map((t) => t.name);
  const registry = new Registry();
  const metrics = new RelayMetrics(registry, {
    topics: topicNames,
    claimedTopics: claimTopics(topics).map((t) => t.name),
    buildInfo: readBuildInfo(),
  });
  // Every connection of this process carries its instance id, which tells crash tracking whether
  // the process that registered a batch is still alive.
  const instance = randomBytes(6).toString('hex');
  const pool = createPool(settings.database, `dionysus-relay:${instance}`);
  metrics.observePool(pool);
  // Idle pool clients can lose their server (Postgres restart); log, never crash.
  pool.on('error', (err) => logger.warn({ err: { message: err.message } }, 'idle PostgreSQL connection lost'));
  const shutdown = new ShutdownCoordinator(logger, settings.relay.shutdownGraceMs);
  // A long-running relay waits for PostgreSQL and Kafka; a one-shot run (--exit-when-idle) does not.
  const waiting = args.exitWhenIdle ? undefined : new DependencyWait({ maxRetryMs: settings.relay.startRetryMaxMs, random: jitterRandom, logger });
  const publisher = new KafkaPublisher({
    config: producerConfig(settings.kafka),
    metadataRefreshMs: settings.kafka.metadataRefreshMs,
    ...(waiting === undefined ? {} : { connectTimeoutMs: KAFKA_CONNECT_ATTEMPT_MS }),
    onStats: (stats) => metrics.recordKafkaStats(stats),
    onFatal: (err) => {
      logger.fatal({ err }, 'Kafka producer failed fatally; restarting is required');
      void shutdown.shutdown('fatal producer error').then(() => process.exit(1));
    },
    stallRestartMs: settings.kafka.stallRestartMs,
    onStalled: (err) => {
      // EX_TEMPFAIL: a deliberate restart, told apart from a crash by supervisors and the fault suite.
      // No drain: the batches in flight wait for delivery reports that will not come. Exiting rolls
      // their transactions back (nothing was marked), and their rows are published again.
      logger.error({ err }, 'Kafka producer lost its brokers; exiting to be restarted (exit code 75)');
      setImmediate(() => process.exit(STALLED_EXIT_CODE));
    },
  });
  metrics.observePublisher(publisher);
  const table = qualifiedTable(settings.database.schema, settings.database.table);
  const store = new OutboxStore(pool, table, settings.relay.onPublish);
  const loader = new SerializerLoader(pool, topics);
  const dependencies = new DependencyResolver(pool, topics);
  const observers = new ObserverResolver(pool, topics);
  const crashTracker = new CrashTracker(pool, table, instance, settings.relay.poisonMaxCrashes, logger);

  const databaseProbe = new DatabaseProbe(pool, { intervalMs: settings.health.readinessIntervalMs }, logger);
  const health = new HealthMonitor({ livenessTimeoutMs: settings.health.livenessTimeoutMs, database: databaseProbe, kafka: publisher, startup: waiting });
  metrics.observeDependencies(() => {
    const { checks } = health.readiness();
    return { postgres: checks.postgres.ok, kafka: checks.kafka.ok };
  });
  const http = new HttpServer(settings.http, registry, health, logger);
  let requestStop: (reason: string) => void = () => undefined;
  const stopSignal = new Promise<string>((resolve) => {
    requestStop = resolve;
  });
  const removeHandlers = handleSignals((signal) => {
    waiting?.stop();
    requestStop(signal);
  });

  // /healthz and /readyz answer while the relay waits for its dependencies.
  const started = await startDependencies(args, settings, { pool, publisher, http, logger, waiting }, [loader, dependencies, observers]).catch((err: unknown) => {
    removeHandlers();
    throw err;
  });
  if (started === 'stopped') {
    removeHandlers();
    logger.info('stopped while waiting for PostgreSQL and Kafka');
    return 0;
  }
  for (const warning of loader.warnings) logger.warn(warning);
  // Each resource lock of a batch in flight takes an entry of the server's shared lock table.
  const lockPlan = lockPlanAtStart(logger, settings, (await store.probeCapabilities()).lockSlots, topics.observerInlineLimit);
  await warnAboutStrictBacklogWalk(logger, settings, topics, pool);
  await crashTracker.start();

  const compatFile = settings.health.compatFile ? new CompatHealthFile({ dir: settings.health.compatFileDir }, logger) : undefined;
  const backlogPoller = new BacklogPoller(pool, { table, intervalMs: settings.metrics.backlogIntervalMs }, metrics, logger);

  const slot = new ActiveSlot(
    () => PgSlotSession.open(connectionConfig(settings.database, `dionysus-relay:${instance}`), table),
    { slots: settings.relay.activeSlots, pollIntervalMs: SLOT_POLL_INTERVAL_MS, random: jitterRandom },
    {
      changed: () => {
        metrics.recordActive(slot.active);
        loop.wake();
      },
      standbyPolled: () => health.claimFinished(),
    },
    logger,
  );
  const loop = new RelayLoop(
    {
      outbox: store,
      inFlight: crashTracker,
      records: loader,
      dependencies,
      observers,
      kafka: publisher,
      events: fanOut(metrics, health, compatFile ?? {}),
      logger,
      settings: {
        batchSize: lockPlan.batchSize,
        locksPerBatch: lockPlan.locksPerBatch,
        publishDelayMs: settings.relay.publishDelayMs,
        claimKeepAliveMs: Math.floor(settings.database.idleInTransactionTimeoutMs / 3),
        idleInTransactionTimeoutMs: settings.database.idleInTransactionTimeoutMs,
        observerInlineLimit: lockPlan.observerInlineLimit,
        retryPolicy: settings.retry,
        random: jitterRandom,
      },
    },
    {
      topics: claimTopics(topics),
      workers: lockPlan.maxInflightBatches,
      pollIntervalMs: settings.relay.pollIntervalMs,
      errorBackoffMs: settings.relay.errorBackoffMs,
      exitWhenIdle: args.exitWhenIdle,
      mayClaim: () => slot.active,
    },
    logger,
  );
  const retention =
    settings.retention.olderThan === ''
      ? undefined
      : new OutboxRetention(
          store,
          { olderThanMs: parseDuration(settings.retention.olderThan), batchSize: settings.retention.batchSize, pauseMs: settings.retention.pauseMs },
          logger,
        );
  const listener = settings.relay.listenNotify
    ? new NotifyListener(
        connectionConfig(settings.database, 'dionysus-relay-listen'),
        (cause) => {
          if (cause === 'notification') metrics.notificationReceived();
          loop.wake();
        },
        logger,
      )
    : undefined;
  // Drain: the loop finishes its batches (/metrics and /healthz keep answering meanwhile). Release:
  // what uses the pool stops before the pool ends; the HTTP server closes last.
  shutdown.onDrain({ name: 'relay loop', stop: () => loop.stop() });
  shutdown.onDrain({ name: 'retention', stop: () => retention?.stop() ?? Promise.resolve() });
  // After the drain, so that no other relay takes the slot while this one's batches still run.
  shutdown.onRelease({ name: 'active slot', stop: () => slot.stop() });
  shutdown.onRelease({ name: 'LISTEN connection', stop: () => listener?.stop() ?? Promise.resolve() });
  shutdown.onRelease({ name: 'compatibility health file', stop: () => compatFile?.stop() ?? Promise.resolve() });
  shutdown.onRelease({ name: 'backlog poller', stop: () => backlogPoller.stop() });
  shutdown.onRelease({ name: 'crash tracker', stop: () => crashTracker.stop() });
  shutdown.onRelease({ name: 'readiness probe', stop: () => databaseProbe.stop() });
  shutdown.onRelease({ name: 'kafka producer', stop: () => publisher.stop() });
  shutdown.onRelease({ name: 'postgres pool', stop: () => pool.end() });
  shutdown.onRelease({ name: 'http server', stop: () => http.stop() });

  await slot.start();
  metrics.recordActive(slot.active);
  loop.start();
  await listener?.start();
  retention?.start(parseDuration(settings.retention.interval));
  health.markStarted();
  databaseProbe.start();
  backlogPoller.start();
  logger.info(
    { instance, topics: topics.topics.map((t) => t.name), workers: lockPlan.maxInflightBatches, batchSize: lockPlan.batchSize, activeSlots: settings.relay.activeSlots, slot: slot.heldSlot },
    'relay running',
  );

  void loop.idle.then(() => {
    removeHandlers();
    requestStop('idle');
  });
  const reason = await stopSignal;
  const outcome = await shutdown.shutdown(reason);
  return outcome === 'clean' ? 0 : 1;
}

/**
 * Listens (a taken port fails the start before anything connects), then reaches PostgreSQL (and
 * migrates, with --migrate) and Kafka, waiting for them unless `waiting` is undefined, and
 * prepares the serializer and dependency statements (bad SQL stops the start naming its key).
 * What was opened is closed again when the start fails or a signal ends the wait.
 */
async function startDependencies(
  args: CliArgs,
  settings: Settings,
  parts: { pool: Pool; publisher: KafkaPublisher; http: HttpServer; logger: Logger; waiting: DependencyWait | undefined },
  statements: ReadonlyArray<{ prepare(): Promise<void> }>,
): Promise<'connected' | 'stopped'> {
  const { pool, publisher, http, logger } = parts;
  const close = async (): Promise<void> => {
    await Promise.allSettled([publisher.stop(), http.stop()]);
    await pool.end().catch(() => undefined);
  };
  try {
    await http.start();
    const targets = { pool, publisher, databaseUrl: settings.database.url, brokers: settings.kafka.brokers, logger };
    const outcome = await connectDependencies({ ...targets, migrateSchema: args.migrateAtStart === true || settings.relay.migrateAtStart ? settings.database.schema : undefined }, parts.waiting);
    if (outcome === 'stopped') {
      await close();
      return outcome;
    }
    for (const s of statements) await s.prepare();
  } catch (err) {
    await close();
    throw err;
  }
  logger.info({ database: redactUrl(settings.database.url), brokers: settings.kafka.brokers }, 'connected to PostgreSQL and Kafka');
  return 'connected';
}

/** The sink's composition root lives beside this one (src/main-sink.ts). */
export { runSink } from './main-sink';
