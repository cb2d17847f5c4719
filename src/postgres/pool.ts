import { readFileSync } from 'node:fs';
import { Pool, type ClientConfig } from 'pg';
import type { Settings } from '../config/settings';

export type DatabaseSettings = Settings['database'];

/**
 * The relay's pool. Session settings travel in the startup packet, so every connection (including
 * one re-opened after a Postgres restart) has them without an extra round trip:
 * - TimeZone=UTC: the outbox holds UTC in zone-less columns and serializers' timestamptz values
 *   must print in UTC;
 * - statement_timeout: a slow serializer fails its rows instead of stalling the loop;
 * - idle_in_transaction_session_timeout: a frozen relay loses its row locks, so others take over;
 * - search_path: the configured schema first, so serializers may use unqualified names.
 * Not for transaction-pooling PgBouncer (startup options and prepared statements need a session).
 */
export function createPool(settings: DatabaseSettings, applicationName = 'dionysus-relay'): Pool {
  const pool = new Pool({
    ...connectionConfig(settings, applicationName),
    max: Math.max(settings.poolSize, 2),
    idleTimeoutMillis: 30_000,
  });
  // pg-pool listens for errors only on idle clients: a connection that dies while checked out
  // (Postgres restart, failover) would emit an unhandled 'error' and kill the process. The query
  // in flight still rejects, and release(err) discards the broken client.
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return pool;
}

/** Connection settings shared by the pool and the LISTEN connection. */
export function connectionConfig(settings: DatabaseSettings, applicationName: string): ClientConfig {
  const options = [
    '-c TimeZone=UTC',
    `-c statement_timeout=${settings.statementTimeoutMs}`,
    `-c idle_in_transaction_session_timeout=${settings.idleInTransactionTimeoutMs}`,
    `-c search_path=${settings.schema.replace(/[^A-Za-z0-9_]/g, '')},public`,
  ].join(' ');
  const config: ClientConfig = {
    connectionString: settings.url,
    application_name: applicationName,
    options,
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  };
  if (settings.sslCaFile !== '') {
    config.ssl = { ca: readFileSync(settings.sslCaFile, 'utf8'), rejectUnauthorized: true };
  }
  return config;
}

/** The URL with its password replaced, for logs and errors. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|secret|key/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return '(unparseable database URL)';
  }
}
