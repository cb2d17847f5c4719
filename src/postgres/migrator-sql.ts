import { quoteIdent } from './identifiers';
import type { Statement } from './statement';

/**
 * `migrate`'s bookkeeping. Each file of sql/ runs in its own transaction under one session-level
 * advisory lock, so two relays starting together cannot apply a file twice.
 */
export const MIGRATION_LOCK_KEY = 'dionysus_relay_migrations';

export const MIGRATION_STATEMENTS = {
  lock: { name: 'dionysus_relay_migrations_lock', text: `SELECT pg_advisory_lock(hashtext($1))` },
  unlock: { name: 'dionysus_relay_migrations_unlock', text: `SELECT pg_advisory_unlock(hashtext($1))` },
  createTable: {
    name: 'dionysus_relay_migrations_create',
    text: `CREATE TABLE IF NOT EXISTS dionysus_relay_schema_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
  },
  applied: { name: 'dionysus_relay_migrations_applied', text: 'SELECT 1 FROM dionysus_relay_schema_migrations WHERE name = $1' },
  record: { name: 'dionysus_relay_migrations_record', text: 'INSERT INTO dionysus_relay_schema_migrations (name) VALUES ($1)' },
} satisfies Record<string, Statement>;

/** DATABASE_SCHEMA, created before anything is migrated into it. */
export function createSchema(schema: string): Statement {
  return { name: 'dionysus_relay_create_schema', text: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}` };
}
