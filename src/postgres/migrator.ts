import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { MIGRATION_LOCK_KEY, MIGRATION_STATEMENTS as sql, createSchema } from './migrator-sql';
import { prepared } from './statement';

/**
 * Forward-only migrations from sql/: `NNN_name.sql` files apply in order; files under
 * sql/optional/ apply only when named (`migrate --with notify_trigger`). Applied names are kept
 * in dionysus_relay_schema_migrations so a second run does nothing. Each file runs in its own
 * transaction under an advisory lock, so two relays starting together (`run --migrate` in every
 * replica) cannot apply one twice; the schema is created under that lock too, since two
 * concurrent CREATE SCHEMA IF NOT EXISTS may both try to insert it.
 */
export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

export function listMigrations(sqlDir: string, optional: readonly string[]): Array<{ name: string; path: string }> {
  const core = readdirSync(sqlDir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((f) => ({ name: f.replace(/\.sql$/, ''), path: join(sqlDir, f) }));
  const optionalDir = join(sqlDir, 'optional');
  const available = optionalMigrationNames(sqlDir);
  const extra = optional.map((name) => {
    if (!available.includes(name)) {
      throw new Error(`unknown optional migration "${name}" (available: ${available.join(', ') || 'none'})`);
    }
    return { name: `optional/${name}`, path: join(optionalDir, `${name}.sql`) };
  });
  return [...core, ...extra];
}

/** Names `migrate --with` accepts: the files of sql/optional/ without .sql. */
export function optionalMigrationNames(sqlDir: string): string[] {
  return readdirSync(join(sqlDir, 'optional'))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
}

export async function migrate(pool: Pool, sqlDir: string, optional: readonly string[] = [], schema?: string): Promise<MigrationResult> {
  const migrations = listMigrations(sqlDir, optional);
  const client = await pool.connect();
  const result: MigrationResult = { applied: [], skipped: [] };
  try {
    await client.query(prepared(sql.lock, [MIGRATION_LOCK_KEY]));
    if (schema !== undefined) await client.query(createSchema(schema).text);
    await client.query(sql.createTable.text);
    for (const m of migrations) {
      const done = await client.query(prepared(sql.applied, [m.name]));
      if (done.rowCount !== 0) {
        result.skipped.push(m.name);
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(readFileSync(m.path, 'utf8'));
        await client.query(prepared(sql.record, [m.name]));
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err });
      }
      result.applied.push(m.name);
    }
  } finally {
    await client.query(prepared(sql.unlock, [MIGRATION_LOCK_KEY])).catch(() => undefined);
    client.release();
  }
  return result;
}
