import type { Pool } from 'pg';
import { RelayError, errorMessage } from '../errors';
import { RELATION_COLUMNS } from '../postgres/catalog-sql';
import { idCount, idPage } from '../postgres/genesis-sql';
import { quoteIdent, quoteRelation } from '../postgres/identifiers';
import { isInfrastructureError, isStatementTimeout } from '../postgres/pg-errors';
import { prepared, unprepared } from '../postgres/statement';

/** The filters of a run, as the id query can apply them. */
export interface IdFilter {
  readonly from: string | null;
  readonly to: string | null;
  readonly visibleOnly: boolean;
  readonly softDeleteColumn: string;
}

/** What the id query already filtered on; the serialized record is checked again either way. */
export interface Prefilters {
  readonly updatedAt: boolean;
  readonly softDelete: boolean;
}

const UPDATED_AT = 'updated_at';

/**
 * Keyset pagination over the ids of a table or view (idPage in postgres/genesis-sql.ts). `last` is
 * cast to the id column's own type so the index is usable and the order is the column's (numeric
 * for bigint, not text order).
 *
 * When the relation has `updated_at` (and, with --visible-only, the soft-delete column), the
 * filters go into the query, so a narrow window over a large table does not load every record
 * through the serializer. Without those columns every id is examined and the record decides.
 */
export class IdSource {
  private constructor(
    private readonly pool: Pool,
    readonly relation: string,
    private readonly quoted: string,
    private readonly idType: string,
    readonly prefilters: Prefilters,
    private readonly filter: IdFilter,
  ) {}

  /** Checks the relation and its columns in the catalog; `key` names the YAML key in errors. */
  static async resolve(pool: Pool, relation: string, filter: IdFilter, key: string): Promise<IdSource> {
    const quoted = quoteRelation(relation);
    const result = await pool.query<{ exists: boolean; name: string | null; type: string | null }>(
      prepared(RELATION_COLUMNS, [quoted, ['id', UPDATED_AT, filter.softDeleteColumn]]),
    );
    if (result.rows[0]?.exists !== true) {
      throw new RelayError('TOPICS_FILE_INVALID', `${key}: ${relation} does not exist (looked up on the search_path, DATABASE_SCHEMA first)`);
    }
    const columns = new Map(result.rows.filter((r) => r.name !== null).map((r) => [r.name as string, r.type as string]));
    const idType = columns.get('id');
    if (idType === undefined) throw new RelayError('TOPICS_FILE_INVALID', `${key}: ${relation} has no id column to page through`);
    const prefilters: Prefilters = {
      updatedAt: (filter.from !== null || filter.to !== null) && columns.has(UPDATED_AT),
      softDelete: filter.visibleOnly && columns.has(filter.softDeleteColumn),
    };
    return new IdSource(pool, relation, quoted, idType, prefilters, filter);
  }

  /** The next `limit` ids after `afterId` (null = from the start), in id order, as text. */
  async page(afterId: string | null, limit: number): Promise<string[]> {
    const { where, values } = this.where(afterId);
    values.push(limit);
    try {
      const result = await this.pool.query<{ id_text: string }>(unprepared(idPage(this.quoted, where, values.length), values));
      return result.rows.map((r) => r.id_text);
    } catch (err) {
      throw idQueryError(err, this.relation);
    }
  }

  /**
   * How many ids the run will examine, for progress and --over. An estimate: rows
   * come and go while the run goes on. Null when counting takes longer than statement_timeout.
   */
  async count(): Promise<number | null> {
    const { where, values } = this.where(null);
    try {
      const result = await this.pool.query<{ n: string }>(unprepared(idCount(this.quoted, where), values));
      return Number(result.rows[0]?.n ?? 0);
    } catch (err) {
      if (isStatementTimeout(err)) return null;
      throw idQueryError(err, this.relation);
    }
  }

  private where(afterId: string | null): { where: string; values: unknown[] } {
    const values: unknown[] = [];
    const conditions = ['id IS NOT NULL'];
    if (afterId !== null) {
      values.push(afterId);
      conditions.push(`id > $${values.length}::${this.idType}`);
    }
    if (this.prefilters.updatedAt) {
      // Inclusive bounds, as the gem's `updated_at BETWEEN from AND to`. Zone-less columns hold UTC
      // and relay connections run with TimeZone=UTC, so the comparison is in UTC.
      if (this.filter.from !== null) {
        values.push(this.filter.from);
        conditions.push(`${UPDATED_AT} >= $${values.length}::timestamptz`);
      }
      if (this.filter.to !== null) {
        values.push(this.filter.to);
        conditions.push(`${UPDATED_AT} <= $${values.length}::timestamptz`);
      }
    }
    if (this.prefilters.softDelete) conditions.push(`${quoteIdent(this.filter.softDeleteColumn)} IS NULL`);
    return { where: conditions.join(' AND '), values };
  }
}

/** A failed id query: infrastructure trouble is retriable, anything else names the relation. */
export function idQueryError(err: unknown, relation: string): RelayError {
  const retriable = isInfrastructureError(err);
  return new RelayError(retriable ? 'POSTGRES_UNAVAILABLE' : 'POSTGRES_QUERY_FAILED', `ids of ${relation}: ${errorMessage(err)}`, {
    cause: err,
    retriable,
  });
}
