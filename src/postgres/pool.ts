import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Pool, type ClientConfig } from 'pg';
import { RelayError, errorMessage } from '../errors';
import type { Settings } from '../config/settings';
import { isConnectRejection } from './pg-errors';
import { PING } from './session-sql';
import { prepared } from './statement';

export type DatabaseSettings = Settings['database'];

/**
 * The relay's pool. Session settings travel in the startup packet, so every connection (including
 * one re-opened after a Postgres restart) has them without an extra round trip:
 * - the settings PostgreSQL's text output depends on, so that serializer values read the same
 *   whatever the server, database or role configures (ALTER DATABASE ... SET DateStyle = 'SQL,
 *   DMY' changes nothing): TimeZone=UTC (the outbox holds UTC in zone-less columns, timestamptz
 *   values print in UTC), DateStyle=ISO, IntervalStyle=iso_8601 (what ActiveRecord sets itself),
 *   extra_float_digits=1 (shortest exact floats, PostgreSQL 12+'s default), bytea_output=hex,
 *   lc_monetary=C (money as `$1,234.56`, which ActiveRecord parses);
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
    '-c DateStyle=ISO',
    '-c IntervalStyle=iso_8601',
    '-c extra_float_digits=1',
    '-c bytea_output=hex',
    '-c lc_monetary=C',
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
  if (settings.sslCaFile !== '') Object.assign(config, verifiedTls(settings.url, settings.sslCaFile));
  return config;
}

/**
 * TLS verified against DATABASE_SSL_CA_FILE. pg lets TLS parameters of the URL (sslmode,
 * sslrootcert, sslcert, sslkey) replace an explicit `ssl` object as a whole, which dropped the CA
 * (and failed every connection) as soon as the URL said e.g. sslmode=verify-full. So they are taken
 * out of the URL and folded in here. The chain is always verified; the host name too, except with
 * sslmode=verify-ca (libpq's meaning: right CA, any host name).
 */
function verifiedTls(url: string, caFile: string): Pick<ClientConfig, 'connectionString' | 'ssl'> {
  const ssl: ConnectionOptions = { ca: readFileSync(caFile, 'utf8'), rejectUnauthorized: true };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { connectionString: url, ssl }; // pg reports an unusable URL itself
  }
  const params = parsed.searchParams;
  const sslmode = params.get('sslmode');
  if (sslmode === 'disable' || sslmode === 'no-verify') {
    throw new RelayError('CONFIG_INVALID', `DATABASE_SSL_CA_FILE is set but DATABASE_URL says sslmode=${sslmode}: remove one of them`, {
      context: { key: 'database.sslCaFile' },
    });
  }
  if (sslmode === 'verify-ca') ssl.checkServerIdentity = () => undefined;
  const sslcert = params.get('sslcert');
  const sslkey = params.get('sslkey');
  if (sslcert !== null) ssl.cert = readFileSync(sslcert, 'utf8');
  if (sslkey !== null) ssl.key = readFileSync(sslkey, 'utf8');
  for (const name of ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl']) params.delete(name);
  return { connectionString: parsed.toString(), ssl };
}

/** Why a connection failed, with a hint when the server's TLS certificate was refused. */
export function connectFailureReason(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const text = errorMessage(err);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `${text} (TLS: the server certificate does not name this host; sslmode=verify-ca checks the CA only)`;
  }
  if (typeof code === 'string' && /CERT|UNABLE_TO_(VERIFY|GET)/.test(code)) {
    return `${text} (TLS: server certificate refused, ${code}: check DATABASE_SSL_CA_FILE)`;
  }
  return text;
}

/**
 * A failed first connection as the one error type: POSTGRES_REJECTED (not retriable) when the
 * server answered and refused us, POSTGRES_UNAVAILABLE (retriable) when it did not answer. The
 * context's `reason` is the short text readiness shows while `run` waits.
 */
export function connectError(err: unknown, url: string): RelayError {
  const reason = connectFailureReason(err);
  const rejected = isConnectRejection(err);
  return new RelayError(rejected ? 'POSTGRES_REJECTED' : 'POSTGRES_UNAVAILABLE', `cannot connect to PostgreSQL at ${redactUrl(url)} (DATABASE_URL): ${reason}`, {
    cause: err,
    retriable: !rejected,
    context: { reason },
  });
}

/** One round trip to PostgreSQL; a failure is thrown as connectError makes it (for a waiting start). */
export async function pingPostgres(pool: Pool, url: string): Promise<void> {
  try {
    await pool.query(prepared(PING));
  } catch (err) {
    throw connectError(err, url);
  }
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
