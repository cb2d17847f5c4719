import type { CustomTypesConfig, Pool } from 'pg';
import { RelayError, errorMessage } from '../errors';
import { isInfrastructureError, isStatementTimeout } from './pg-errors';
import type { ResultField } from './type-catalog';

/**
 * Serializer and relationship results are read as PostgreSQL's text, every type, and cast by the
 * relay's own codecs (domain/column-types) the way ActiveRecord casts them. Per query, never the
 * global pg.types: the relay's bookkeeping queries keep node-postgres' defaults.
 */
const AS_TEXT: CustomTypesConfig = {
  getTypeParser: (() => (value: string) => value) as unknown as CustomTypesConfig['getTypeParser'],
};

export interface TextResult {
  readonly fields: readonly ResultField[];
  readonly rows: ReadonlyArray<ReadonlyArray<string | null>>;
}

/** Runs a statement with `$1` = `ids` (a text array, cast by the statement), values as text. */
export async function queryText(pool: Pool, name: string, text: string, ids: readonly string[]): Promise<TextResult> {
  const result = await pool.query<Array<string | null>>({ name, text, values: [ids], rowMode: 'array', types: AS_TEXT });
  return { fields: result.fields, rows: result.rows };
}

/**
 * Runs `run` for all `ids`; when the statement fails (not the database), for each id alone, so
 * that one bad record fails only its own rows. Infrastructure errors are thrown: the batch is
 * abandoned, not its rows.
 */
export async function runIsolating<T>(
  ids: readonly string[],
  run: (ids: readonly string[]) => Promise<T>,
  describe: (err: unknown) => RelayError,
): Promise<{ results: T[]; failures: Map<string, RelayError> }> {
  const failures = new Map<string, RelayError>();
  if (ids.length === 0) return { results: [], failures };
  try {
    return { results: [await run(ids)], failures };
  } catch (err) {
    if (abandonsBatch(err)) throw err;
    if (ids.length === 1) {
      failures.set(ids[0] as string, describe(err));
      return { results: [], failures };
    }
  }
  const results: T[] = [];
  for (const id of ids) {
    try {
      results.push(await run([id]));
    } catch (err) {
      if (abandonsBatch(err)) throw err;
      failures.set(id, describe(err));
    }
  }
  return { results, failures };
}

/** The database failed, not the statement (a RelayError raised by the relay's own checks is the statement's). */
function abandonsBatch(err: unknown): boolean {
  return !(err instanceof RelayError) && isInfrastructureError(err);
}

/** A failed serializer or relationship statement, as the row's error. */
export function statementError(err: unknown, what: string, context: Record<string, string>): RelayError {
  if (err instanceof RelayError) return err;
  return new RelayError(isStatementTimeout(err) ? 'SERIALIZER_TIMEOUT' : 'SERIALIZER_FAILED', `${what}: ${errorMessage(err)}`, {
    cause: err,
    retriable: true,
    context,
  });
}
