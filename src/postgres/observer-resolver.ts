import type { Pool } from 'pg';
import type { ObserverConfig, TopicsConfig } from '../config/topics-types';
import { RelayError, errorMessage } from '../errors';
import { isInfrastructureError, sqlState } from './pg-errors';

/**
 * Runs observers' `sql` ($1 = observed ids → the related records' `id`), checked once at start.
 * Reads at most `limit + 1` ids, enough to tell an inline fan-out from one to hand over.
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
        const result = await this.pool.query({ text: o.sql, values: [[]] });
        if (!result.fields.some((f) => f.name === 'id')) problems.push(`${this.topics.file}: ${o.path}.sql: must return an id column`);
      } catch (err) {
        if (sqlState(err) === undefined || isInfrastructureError(err)) throw err;
        problems.push(`${this.topics.file}: ${o.path}.sql: ${errorMessage(err)}`);
      }
    }
    if (problems.length > 0) {
      throw new RelayError('TOPICS_FILE_INVALID', problems.join('\n'), { context: { file: this.topics.file, problems } });
    }
  }

  async related(observer: ObserverConfig, observedId: string): Promise<string[]> {
    try {
      const result = await this.pool.query<{ id: unknown }>({ text: observer.sql, values: [[observedId]] });
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
