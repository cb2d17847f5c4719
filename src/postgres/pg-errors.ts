/**
 * Postgres failures split into two kinds:
 * - infrastructure (connection lost, server shutting down, out of resources): the whole batch is
 *   abandoned, its transaction rolls back and its rows are claimed again later, with no attempt
 *   counted against them;
 * - statement errors (syntax, missing column, division by zero, timeout): the rows the statement
 *   served fail individually and go through the retry schedule.
 */

/** SQLSTATE classes and codes that mean "the database, not this statement, is the problem". */
const INFRASTRUCTURE_CLASSES = ['08', '53', '57P', '58', 'XX'];
const STATEMENT_TIMEOUT = '57014';

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function isStatementTimeout(err: unknown): boolean {
  return sqlState(err) === STATEMENT_TIMEOUT;
}

/** True when the error says nothing about the statement: retry the whole batch later. */
export function isInfrastructureError(err: unknown): boolean {
  const state = sqlState(err);
  if (state === undefined) {
    // Socket-level errors from node-postgres carry errno codes (ECONNREFUSED, ECONNRESET...) or
    // no code at all ("Connection terminated unexpectedly").
    return true;
  }
  if (state === STATEMENT_TIMEOUT) return false;
  return INFRASTRUCTURE_CLASSES.some((prefix) => state.startsWith(prefix));
}

/**
 * SQLSTATEs of a server that answers but refuses this client, which waiting cannot change:
 * 28000 (no pg_hba.conf entry, unknown role), 28P01 (wrong password), 3D000 (no such database),
 * 42501 (no CONNECT privilege on the database).
 */
const REJECTION_STATES = new Set(['28000', '28P01', '3D000', '42501']);

/** TLS verification failures (node's codes) and a server without TLS: the settings must change. */
const TLS_REJECTION = /CERT|UNABLE_TO_(VERIFY|GET)|ERR_TLS_/;

/** True when a connection attempt failed because the server refuses us, not because it is away. */
export function isConnectRejection(err: unknown): boolean {
  const state = sqlState(err);
  if (state !== undefined) return REJECTION_STATES.has(state);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TLS_REJECTION.test(code)) return true;
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && /does not support SSL connections/.test(message);
}
