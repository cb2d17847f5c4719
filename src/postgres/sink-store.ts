import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { PruneOp, RecordOp } from '../sink/apply-plan';
import type { StatementGroup } from '../sink/apply-steps';
import type { ApplyStatements } from '../sink/batch-applier';
import { writeJson, type JsonValue } from '../sink/json-value';
import type { ColumnInfo } from '../sink/apply-target';
import { isInfrastructureError } from './pg-errors';
import { beginWithPartitionLock, deleteStatement, inboxStatement, pruneStatement, upsertStatement } from './sink-sql';

/** One row of the inbox table. */
export interface InboxRow {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly eventIndex: number;
  readonly key: string | null;
  readonly eventName: string;
  readonly modelName: string;
  readonly data: JsonValue;
}

/** The statements of one open transaction of the sink. */
export interface SinkTransaction extends ApplyStatements {
  insertInbox(rows: readonly InboxRow[]): Promise<void>;
  /** Runs `body` in a savepoint: on error the transaction rolls back to it, and the error is rethrown. */
  savepoint<T>(body: () => Promise<T>): Promise<T>;
}

/**
 * The sink's writes to PostgreSQL. Each partition batch is one transaction holding the
 * partition's advisory lock; statements are named prepared statements (the text depends only on
 * the table and the set of columns, so each is parsed once per connection).
 */
export class SinkStore {
  private readonly names = new Map<string, string>();

  constructor(
    private readonly pool: Pool,
    private readonly inboxTable: string | undefined,
  ) {}

  async transaction<T>(lockKey: string, body: (tx: SinkTransaction) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(beginWithPartitionLock(lockKey));
      const result = await body(this.statements(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      if (isInfrastructureError(err)) broken = err as Error;
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken ??= rollbackErr as Error;
      });
      throw err;
    } finally {
      // A connection that failed below the statement level is discarded, not reused.
      client.release(broken);
    }
  }

  private statements(client: PoolClient): SinkTransaction {
    let savepoints = 0;
    return {
      apply: (group) => this.applyGroup(client, group),
      prune: (prunes, writes) => this.prune(client, prunes, writes),
      insertInbox: async (rows) => {
        if (rows.length === 0 || this.inboxTable === undefined) return;
        await this.run(client, inboxStatement(this.inboxTable), [inboxJson(rows)]);
      },
      savepoint: async <T>(body: () => Promise<T>): Promise<T> => {
        const name = `sink_message_${++savepoints}`;
        await client.query(`SAVEPOINT ${name}`);
        try {
          const result = await body();
          await client.query(`RELEASE SAVEPOINT ${name}`);
          return result;
        } catch (err) {
          await client.query(`ROLLBACK TO SAVEPOINT ${name}`);
          throw err;
        }
      },
    };
  }

  private async applyGroup(client: PoolClient, group: StatementGroup): Promise<Map<RecordOp, 'stale' | 'lost'>> {
    const first = group.ops[0];
    const refused = new Map<RecordOp, 'stale' | 'lost'>();
    if (first === undefined) return refused;
    const target = first.target;
    const text = group.kind === 'delete' ? deleteStatement(target) : upsertStatement(target, group.columns, group.cancelNow);
    const columns = group.kind === 'delete' ? [target.idColumn] : group.columns;
    const rows = await this.run<{ o: number; status: 's' | 'l' }>(client, text, [groupJson(group.ops, columns, group.kind !== 'delete')]);
    for (const row of rows) {
      const op = group.ops[row.o];
      if (op !== undefined) refused.set(op, row.status === 's' ? 'stale' : 'lost');
    }
    return refused;
  }

  private async prune(client: PoolClient, prunes: readonly PruneOp[], writes: readonly RecordOp[]): Promise<number> {
    const first = prunes[0];
    if (first === undefined) return 0;
    const foreignKey = first.target.columns.get(first.foreignKey) as ColumnInfo;
    const text = pruneStatement(first.target, foreignKey, first.mode);
    const parents = `[${prunes.map((p) => `{"s":${p.seq},"p":${writeJson(p.parent.syncedId)},"k":${writeJson([...p.keep])}}`).join(',')}]`;
    const written = `[${writes.map((op) => `{"s":${op.seq},"i":${writeJson(op.syncedId)}}`).join(',')}]`;
    return (await this.run(client, text, [parents, written])).length;
  }

  private async run<R>(client: PoolClient, text: string, values: unknown[]): Promise<R[]> {
    let name = this.names.get(text);
    if (name === undefined) {
      name = `dionysus_sink_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      this.names.set(text, name);
    }
    const result = await client.query({ name, text, values });
    return result.rows as R[];
  }
}

/**
 * $1 of an upsert or delete (see sink-sql): [{o: index in the group, t: incoming time, d: the
 * attribute hash, v: the columns whose value is not d's under the same name}]. Each hash is
 * written once: it is synced_data, and most columns read their value from it.
 */
function groupJson(ops: readonly RecordOp[], columns: readonly string[], withAttributes: boolean): string {
  const keys = columns.map((c) => JSON.stringify(c));
  let out = '[';
  ops.forEach((op, o) => {
    const attributes = op.attributes;
    const write = op.exactNumbers ? JSON.stringify : writeJson;
    let v = '';
    columns.forEach((c, i) => {
      if (c === op.target.dataColumn) return;
      const value = c === op.target.idColumn && op.kind === 'delete' ? op.syncedId : (op.values.get(c) ?? null);
      if (withAttributes && Object.hasOwn(attributes, c) && attributes[c] === value) return;
      v += `${v === '' ? '' : ','}${keys[i] as string}:${write(value)}`;
    });
    out += `${o === 0 ? '' : ','}{"o":${o},"t":${write(op.incomingTime)},${withAttributes ? `"d":${write(attributes)},` : ''}"v":{${v}}}`;
  });
  return `${out}]`;
}

function inboxJson(rows: readonly InboxRow[]): string {
  const parts = rows.map(
    (r) =>
      `{"topic":${JSON.stringify(r.topic)},"p":${r.partition},"off":${r.offset},"ei":${r.eventIndex},"k":${JSON.stringify(r.key)},` +
      `"e":${JSON.stringify(r.eventName)},"m":${JSON.stringify(r.modelName)},"d":${writeJson(r.data)}}`,
  );
  return `[${parts.join(',')}]`;
}
