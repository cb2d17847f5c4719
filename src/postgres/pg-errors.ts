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
