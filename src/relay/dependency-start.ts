import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { RelayError } from '../errors';
import { requireBrokerAnswer } from '../kafka/broker-probe';
import { STOPPED, type DependencyWait } from '../lifecycle/dependency-wait';
import { packageRoot } from '../package-root';
import { migrate } from '../postgres/migrator';
import { pingPostgres, redactUrl } from '../postgres/pool';

export interface DependencyTargets {
  readonly pool: Pool;
  readonly publisher: { start(): Promise<void> };
  /** DATABASE_URL and KAFKA_BROKERS, for messages (the password is redacted). */
  readonly databaseUrl: string;
  readonly brokers: string;
  /** `run --migrate`: the default migrations are applied into this schema once PostgreSQL answers. */
  readonly migrateSchema?: string | undefined;
  readonly logger: Logger;
}

/**
 * Connects `run` to PostgreSQL (then migrates, with --migrate) and Kafka.
 *
 * With a DependencyWait (a long-running `run`), both are tried side by side until they answer, so
 * readiness shows each one's state and migrations run while Kafka is still awaited; answers
 * 'stopped' when a signal ended the wait. Without one (`run --exit-when-idle`, a one-shot job),
 * each is tried once, PostgreSQL first, and the first failure is thrown. Errors that waiting
 * cannot fix (POSTGRES_REJECTED, KAFKA_REJECTED, a failed migration) are thrown either way.
 */
export async function connectDependencies(targets: DependencyTargets, wait: DependencyWait | undefined): Promise<'connected' | 'stopped'> {
  const postgres = (): Promise<void> => pingPostgres(targets.pool, targets.databaseUrl);
  const kafka = (): Promise<void> => reachKafka(targets);
  if (wait === undefined) {
    await postgres();
    await migrateIfAsked(targets);
    await kafka();
    return 'connected';
  }
  const outcomes = await Promise.all([
    wait.failsAll(
      wait.until('postgres', postgres).then(async (answer) => {
        if (answer !== STOPPED) await migrateIfAsked(targets);
        return answer;
      }),
    ),
    wait.failsAll(wait.until('kafka', kafka)),
  ]);
  return outcomes.includes(STOPPED) || wait.isStopped ? 'stopped' : 'connected';
}

async function reachKafka(targets: DependencyTargets): Promise<void> {
  // While no broker accepts a connection, no librdkafka client is made.
  await requireBrokerAnswer(targets.brokers);
  try {
    await targets.publisher.start();
  } catch (err) {
    if (err instanceof RelayError && (err.code === 'KAFKA_UNAVAILABLE' || err.code === 'KAFKA_REJECTED')) {
      throw new RelayError(err.code, `${err.message} (KAFKA_BROKERS=${targets.brokers})`, { cause: err, retriable: err.retriable, context: err.context });
    }
    throw err;
  }
}

/** The migrations `migrate` applies without --with, under its advisory lock (replicas may race). */
async function migrateIfAsked(targets: DependencyTargets): Promise<void> {
  if (targets.migrateSchema === undefined) return;
  const result = await migrate(targets.pool, join(packageRoot(), 'sql'), [], targets.migrateSchema);
  targets.logger.info(
    { database: redactUrl(targets.databaseUrl), schema: targets.migrateSchema, applied: result.applied, alreadyPresent: result.skipped.length },
    `--migrate: ${result.applied.length} migrations applied, ${result.skipped.length} already present`,
  );
}
