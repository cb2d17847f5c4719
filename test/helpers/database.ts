import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { migrate } from '../../src/postgres/migrator';
import { createPool } from '../../src/postgres/pool';
import { packageRoot } from '../../src/package-root';
import { TEST_DATABASE_URL, uniqueSuffix } from './env';

/**
 * A schema of its own for one test file: the outbox table is migrated into it, and the relay
 * runs with DATABASE_SCHEMA pointing at it. `drop()` removes everything.
 */
export interface TestDatabase {
  readonly schema: string;
  readonly url: string;
  /** Plain pool with search_path set to the schema (default pg type parsing). */
  readonly pool: Pool;
  query<T extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  /** Env for a relay process using this schema. */
  relayEnv(): Record<string, string>;
  drop(): Promise<void>;
}

/** A relay-configured pool (createPool) on `schema`, with the settings the tests use. */
export function relayPoolFor(schema: string, url: string = TEST_DATABASE_URL): Pool {
  return createPool({
    url,
    schema,
    table: 'dionysus_outboxes',
    poolSize: 2,
    statementTimeoutMs: 30000,
    idleInTransactionTimeoutMs: 60000,
    sslCaFile: '',
  });
}

export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const schema = `${prefix}_${uniqueSuffix()}`.toLowerCase();
  const admin = new Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  await admin.end();
  const relayPool = relayPoolFor(schema);
  await migrate(relayPool, join(packageRoot(), 'sql'));
  await relayPool.end();
  const pool = new Pool({ connectionString: TEST_DATABASE_URL, max: 4, options: `-c search_path=${schema},public -c TimeZone=UTC` });
  return {
    schema,
    url: TEST_DATABASE_URL,
    pool,
    async query(text, values) {
      const result = await pool.query(text, values);
      return result.rows;
    },
    relayEnv: () => ({ DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema }),
    async drop() {
      await pool.end();
      const client = new Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    },
  };
}

/**
 * Inserts an outbox row the way the gem does (application clock, UTC, in the caller's transaction
 * when `client` is one). Returns its id.
 */
export async function insertOutboxRow(
  db: { query: (text: string, values?: unknown[]) => Promise<Array<Record<string, unknown>>> },
  row: { resourceClass: string; resourceId: string | number; event: string; topic: string; partitionKey?: string | null },
): Promise<string> {
  const rows = await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, partition_key, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') RETURNING id`,
    [row.resourceClass, String(row.resourceId), row.event, row.topic, row.partitionKey ?? null],
  );
  return String(rows[0]?.['id']);
}
