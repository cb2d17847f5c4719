import type { Pool } from 'pg';
import type { DependencyConfig, TopicsConfig } from '../config/topics-types';
import { RelayError, errorMessage } from '../errors';
import { isInfrastructureError, sqlState } from './pg-errors';

/** Parent ids per dependency id, for one dependency class on one topic. */
export type ParentsById = Map<string, Array<{ parentModel: string; parentId: string }>>;

/**
 * Runs the `parents_sql` statements of dependencies: `$1` = the batch's dependency ids, rows of
 * `dependency_id, parent_id`. Checked once at start like serializers.
 */
export class DependencyResolver {
  constructor(
    private readonly pool: Pool,
    private readonly topics: TopicsConfig,
  ) {}

  async prepare(): Promise<void> {
    const problems: string[] = [];
    for (const topic of this.topics.topics) {
      for (const configs of topic.dependencies.values()) {
        for (const c of configs) {
          try {
            const result = await this.pool.query({ text: c.parentsSql, values: [[]] });
            const names = result.fields.map((f) => f.name);
            if (!names.includes('dependency_id') || !names.includes('parent_id')) {
              problems.push(`${this.topics.file}: ${c.path}.parents_sql: must return columns dependency_id and parent_id (got ${names.join(', ')})`);
            }
          } catch (err) {
            if (sqlState(err) === undefined || isInfrastructureError(err)) throw err;
            problems.push(`${this.topics.file}: ${c.path}.parents_sql: ${errorMessage(err)}`);
          }
        }
      }
    }
    if (problems.length > 0) {
      throw new RelayError('TOPICS_FILE_INVALID', problems.join('\n'), { context: { file: this.topics.file, problems } });
    }
  }

  /** Parents of the given dependency ids, for every parent model the dependency belongs to. */
  async parents(configs: readonly DependencyConfig[], ids: readonly string[]): Promise<ParentsById> {
    const result: ParentsById = new Map();
    for (const c of configs) {
      let rows: Array<{ dependency_id: unknown; parent_id: unknown }>;
      try {
        rows = (await this.pool.query<{ dependency_id: unknown; parent_id: unknown }>({ text: c.parentsSql, values: [ids] })).rows;
      } catch (err) {
        if (isInfrastructureError(err)) throw err;
        throw new RelayError('SERIALIZER_FAILED', `parents_sql of ${c.name} (${c.path}): ${errorMessage(err)}`, { cause: err, retriable: true });
      }
      for (const row of rows) {
        if (row.parent_id === null || row.parent_id === undefined) continue;
        const key = String(row.dependency_id);
        result.set(key, [...(result.get(key) ?? []), { parentModel: c.parentModel, parentId: String(row.parent_id) }]);
      }
    }
    return result;
  }
}
