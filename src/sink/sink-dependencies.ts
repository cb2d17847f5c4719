import type { Pool } from 'pg';
import type { SinkConfig } from '../config/sink-types';
import { RelayError } from '../errors';
import { requireBrokerAnswer } from '../kafka/broker-probe';
import { STOPPED, type DependencyWait } from '../lifecycle/dependency-wait';
import { pingPostgres } from '../postgres/pool';
import { readSinkCatalog, type SinkCatalog } from '../postgres/sink-catalog';

export interface SinkDependencyTargets {
  readonly pool: Pool;
  readonly sink: SinkConfig;
  /** Started once Kafka accepts connections (when a topic dead-letters). */
  readonly deadLetters: { start(): Promise<void> } | undefined;
  /** DATABASE_URL and KAFKA_BROKERS, for messages (the password is redacted). */
  readonly databaseUrl: string;
  readonly brokers: string;
}

/**
 * Reaches PostgreSQL (then reads the mapped tables) and Kafka for `sink`, waiting for both side by
 * side like `run` does, so a sink started before its database or broker (a sidecar in a pod whose
 * database is still coming up) serves /healthz and an explanatory /readyz meanwhile and starts
 * applying when they answer. The consumer joins its group only after both answered, so no
 * partition is assigned before the sink can apply it. Errors waiting cannot fix are thrown: the
 * server refused our credentials (POSTGRES_REJECTED), or the tables do not fit the sink file
 * (SINK_FILE_INVALID, naming the file and key). 'stopped' when a signal ended the wait.
 */
export async function reachSinkDependencies(targets: SinkDependencyTargets, wait: DependencyWait): Promise<SinkCatalog | 'stopped'> {
  const postgres = async (): Promise<SinkCatalog | typeof STOPPED> => ((await wait.until('postgres', () => pingPostgres(targets.pool, targets.databaseUrl))) === STOPPED ? STOPPED : mappedTables(targets));
  const [catalog, kafka] = await Promise.all([wait.failsAll(postgres()), wait.failsAll(wait.until('kafka', () => requireBrokerAnswer(targets.brokers)))]);
  if (catalog === STOPPED || kafka === STOPPED || wait.isStopped) return 'stopped';
  await targets.deadLetters?.start();
  return catalog;
}

/** The mapped tables' columns; a table that does not fit the sink file stops the start. */
async function mappedTables(targets: SinkDependencyTargets): Promise<SinkCatalog> {
  const catalog = await readSinkCatalog(targets.pool, targets.sink);
  if (catalog.problems.length > 0) {
    throw new RelayError('SINK_FILE_INVALID', catalog.problems.join('\n'), { context: { file: targets.sink.file } });
  }
  return catalog;
}
