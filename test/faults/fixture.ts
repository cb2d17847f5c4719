import { join } from 'node:path';
import { migrate } from '../../src/postgres/migrator';
import { packageRoot } from '../../src/package-root';
import { createTestDatabase, relayPoolFor, type TestDatabase } from '../helpers/database';
import { createTopic, deleteTopics, uniqueNamespace } from '../helpers/kafka';
import { writeTopicsFile } from '../helpers/relay-process';
import type { FaultSuiteOptions } from './options';
import { survivePostgresRestarts } from './time';

/**
 * What the suite's application looks like: two models, each in its own table and on its own topic.
 * Every resource carries a `version` that each write increments; the serializer returns it, with
 * the time the relay loaded the record and which relay process loaded it (its application_name), so
 * every message in Kafka says which state it carries, when it was read and by whom.
 */
export interface ModelSpec {
  readonly table: string;
  readonly model: string;
  readonly singular: string;
  readonly topicKey: string;
  readonly ordering: 'snapshot' | 'strict';
}

/** Items on a topic with the default `snapshot` ordering, orders on one with `ordering: strict`. */
export const MODELS: readonly ModelSpec[] = [
  { table: 'items', model: 'Item', singular: 'item', topicKey: 'items', ordering: 'snapshot' },
  { table: 'orders', model: 'Order', singular: 'order', topicKey: 'orders', ordering: 'strict' },
];

export interface Fixture {
  readonly db: TestDatabase;
  readonly namespace: string;
  /** Full topic name per model name. */
  readonly topicOf: ReadonlyMap<string, string>;
  readonly topicsFile: string;
  cleanup(): Promise<void>;
}

export async function createFixture(options: FaultSuiteOptions): Promise<Fixture> {
  const db = await createTestDatabase('faults');
  // The suite restarts PostgreSQL: a connection of this pool then dies, which must not crash us.
  survivePostgresRestarts(db.pool);
  await migrateOptional(db.schema);
  const namespace = uniqueNamespace('faults');
  const topicOf = new Map(MODELS.map((m) => [m.model, `${namespace}_${m.topicKey}`]));
  await db.query(`CREATE TABLE write_log (
    token text PRIMARY KEY,
    model text NOT NULL,
    resource_id bigint NOT NULL,
    version integer NOT NULL,
    committed_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  for (const m of MODELS) {
    await db.query(`CREATE TABLE ${m.table} (
      id bigint PRIMARY KEY,
      account_id bigint NOT NULL,
      version integer NOT NULL,
      updated_at timestamptz NOT NULL)`);
    // Version 1 of every resource, created like an application would: the row, its outbox row
    // (`<singular>_created`) and the suite's own record of the write, in one transaction.
    await db.query(`BEGIN;
      INSERT INTO ${m.table} SELECT g, g % 7, 1, clock_timestamp() FROM generate_series(1, ${options.resourcesPerModel}) g;
      INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
        SELECT '${m.model}', g::text, '${m.singular}_created', '${topicOf.get(m.model)}',
               clock_timestamp() AT TIME ZONE 'UTC', clock_timestamp() AT TIME ZONE 'UTC'
          FROM generate_series(1, ${options.resourcesPerModel}) g;
      INSERT INTO write_log (token, model, resource_id, version) SELECT 'seed-${m.model}-' || g, '${m.model}', g, 1
          FROM generate_series(1, ${options.resourcesPerModel}) g;
      COMMIT`);
  }
  for (const topic of topicOf.values()) await createTopic(topic, options.partitions);
  const topicsFile = writeTopicsFile(topicsYaml(namespace));
  return {
    db,
    namespace,
    topicOf,
    topicsFile,
    async cleanup() {
      await deleteTopics([...topicOf.values()]);
      await db.drop();
    },
  };
}

function topicsYaml(namespace: string): string {
  const topics = MODELS.map(
    (m) => `  ${m.topicKey}:
    partition_key: id
    ordering: ${m.ordering}
    models:
      ${m.model}:
        sql: >-
          SELECT id, account_id, version, updated_at, clock_timestamp() AS loaded_at,
                 current_setting('application_name') AS loaded_by
            FROM ${m.table} WHERE id = ANY($1::bigint[])`,
  );
  return `namespace: ${namespace}\ntopics:\n${topics.join('\n')}\n`;
}

/**
 * The optional migrations: the insert trigger, so the relays' LISTEN connections are exercised by
 * the restarts too, and the strict topics' retry-wait index, as README recommends for them (the
 * integration tests of strict ordering run without it).
 */
async function migrateOptional(schema: string): Promise<void> {
  const pool = relayPoolFor(schema);
  try {
    await migrate(pool, join(packageRoot(), 'sql'), ['notify_trigger', 'strict_retry_index']);
  } finally {
    await pool.end();
  }
}
