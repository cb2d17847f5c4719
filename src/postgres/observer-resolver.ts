import type { Pool } from 'pg';
import type { ObserverConfig, TopicsConfig } from '../config/topics-types';
import { RelayError, errorMessage } from '../errors';
import { observerFirstPage, observerNextPage } from './observer-sql';
import { isInfrastructureError, sqlState } from './pg-errors';
import { unprepared } from './statement';

/**
 * Runs observers' `sql` ($1 = observed ids → the related records' `id`), checked once at start,
 * a page of ids at a time (observer-sql.ts): the caller decides how many ids it holds.
 */
export class ObserverResolver {
  constructor(
    private readonly pool: Pool,
    private readonly topics: TopicsConfig,
  ) {}

  get all(): readonly ObserverConfig[] {
    return this.topics.observers;
  }

  async prepare(): Promise<void> {
    const problems: string[] = [];
    for (const o of this.topics.observers) {
      try {
        await this.pool.query(unprepared(observerFirstPage(o.sql), [[], 1]));
      } catch (err) {
        if (sqlState(err) === undefined || isInfrastructureError(err)) throw err;
        // The wrapper's related.id missing means the statement returns no id column.
        const problem = /\brelated\.id\b/.test(errorMessage(err)) ? 'must return an id column' : errorMessage(err);
        problems.push(`${this.topics.file}: ${o.path}.sql: ${problem}`);
      }
    }
    if (problems.length > 0) {
      throw new RelayError('TOPICS_FILE_INVALID', problems.join('\n'), { context: { file: this.topics.file, problems } });
    }
  }

  /** Up to `limit` ids of the records related to `observedId`, in id order, after id `after` when given. */
  async relatedPage(observer: ObserverConfig, observedId: string, limit: number, after?: string): Promise<string[]> {
    const query =
      after === undefined
        ? unprepared(observerFirstPage(observer.sql), [[observedId], limit])
        : unprepared(observerNextPage(observer.sql), [[observedId], after, limit]);
    try {
      const result = await this.pool.query<{ id: unknown }>(query);
      return result.rows.map((r) => String(r.id));
    } catch (err) {
      if (isInfrastructureError(err)) throw err;
      throw new RelayError('SERIALIZER_FAILED', `observer ${observer.name} (${observer.path}.sql): ${errorMessage(err)}`, {
        cause: err,
        retriable: true,
      });
    }
  }
}
