import type { Pool, PoolClient, QueryResultRow } from 'pg';
import { RelayError, errorMessage } from '../errors';
import { genesisRunStatements } from '../postgres/genesis-sql';
import { sqlState } from '../postgres/pg-errors';
import { prepared, type Statement } from '../postgres/statement';

/** The progress table (sql/002_create_dionysus_relay_genesis_runs.sql), in DATABASE_SCHEMA. */
export const GENESIS_RUNS_TABLE = 'dionysus_relay_genesis_runs';

export type GenesisStatus = 'running' | 'done' | 'failed' | 'interrupted';

/** A row of the progress table. */
export interface GenesisRun {
  readonly id: string;
  /** The target topic as sent to: `<ns>_<topic>` (primary, and its replica if any) or `<ns>_<topic>_genesis`. */
  readonly topic: string;
  readonly model: string;
  /** Stored options JSON (see genesis-options.ts parseStoredOptions). */
  readonly options: unknown;
  /** Id of the last record of the last page Kafka acknowledged; null before the first page. */
  readonly lastId: string | null;
  readonly sent: number;
  readonly skipped: number;
  readonly totalEstimate: number | null;
  readonly status: GenesisStatus;
  readonly error: string | null;
}

/** Holds the run's advisory lock until released (or until the process dies: kill -9 frees it). */
export interface GenesisRunLock {
  release(): Promise<void>;
}

export class GenesisRunStore {
  private readonly sql: ReturnType<typeof genesisRunStatements>;

  constructor(
    private readonly pool: Pool,
    private readonly table: string,
  ) {
    this.sql = genesisRunStatements(table);
  }

  async create(run: { topic: string; model: string; options: unknown; totalEstimate: number | null }): Promise<GenesisRun> {
    const rows = await this.query(this.sql.create, [run.topic, run.model, JSON.stringify(run.options), run.totalEstimate]);
    return toRun(rows[0] as QueryResultRow);
  }

  async find(id: string): Promise<GenesisRun | undefined> {
    const rows = await this.query(this.sql.find, [id]);
    return rows[0] === undefined ? undefined : toRun(rows[0]);
  }

  async resume(id: string, options: unknown): Promise<void> {
    await this.query(this.sql.resume, [id, JSON.stringify(options)]);
  }

  async recordPage(id: string, lastId: string, sent: number, skipped: number): Promise<void> {
    await this.query(this.sql.recordPage, [id, lastId, sent, skipped]);
  }

  async finish(id: string, status: Exclude<GenesisStatus, 'running'>, error: string | null): Promise<void> {
    await this.query(this.sql.finish, [id, status, error]);
  }

  /** Takes the run's lock on a connection of its own; undefined when another process holds it. */
  async lock(id: string): Promise<GenesisRunLock | undefined> {
    const client: PoolClient = await this.pool.connect();
    let locked = false;
    try {
      const result = await client.query<{ locked: boolean }>(prepared(this.sql.tryLock, [this.table, id]));
      locked = result.rows[0]?.locked === true;
    } finally {
      if (!locked) client.release();
    }
    if (!locked) return undefined;
    let released: Promise<void> | undefined;
    return {
      release: () => {
        released ??= (async () => {
          let broken = false;
          try {
            await client.query(prepared(this.sql.unlock, [this.table, id]));
          } catch {
            // A connection that broke has lost its lock already; drop it rather than reuse it.
            broken = true;
          }
          client.release(broken);
        })();
        return released;
      },
    };
  }

  private async query(statement: Statement, values: unknown[]): Promise<QueryResultRow[]> {
    try {
      return (await this.pool.query(prepared(statement, values))).rows;
    } catch (err) {
      if (sqlState(err) === '42P01') {
        throw new RelayError('CONFIG_INVALID', `${this.table} does not exist: run \`dionysus-relay migrate\` first`, { cause: err });
      }
      throw new RelayError('POSTGRES_QUERY_FAILED', `genesis progress table: ${errorMessage(err)}`, { cause: err, retriable: true });
    }
  }
}

function toRun(row: QueryResultRow): GenesisRun {
  const total = row['total_estimate'] as string | null;
  return {
    id: String(row['id']),
    topic: String(row['topic']),
    model: String(row['model']),
    options: row['options'],
    lastId: (row['last_id'] as string | null) ?? null,
    sent: Number(row['sent']),
    skipped: Number(row['skipped']),
    totalEstimate: total === null ? null : Number(total),
    status: row['status'] as GenesisStatus,
    error: (row['error'] as string | null) ?? null,
  };
}
