import type { Logger } from 'pino';
import { errorMessage } from '../errors';
import { PeriodicTask } from '../lifecycle/periodic-task';
import { TABLE_HEALTH, backlogStatement } from '../postgres/backlog-sql';
import { prepared, type Statement } from '../postgres/statement';
import type { TableHealth, TopicBacklog } from './metrics';

export interface BacklogSink {
  recordBacklog(rows: readonly TopicBacklog[]): void;
  recordTableHealth(health: TableHealth): void;
}

export interface BacklogPollerOptions {
  /** Quoted schema-qualified table name (postgres/identifiers.ts qualifiedTable). */
  readonly table: string;
  readonly intervalMs: number;
}

interface Queryable {
  query<R>(query: { name: string; text: string; values: unknown[] }): Promise<{ rows: R[] }>;
}

/**
 * Refreshes the backlog and table gauges every `intervalMs` with two cheap queries: the gauges are
 * never computed on scrape, so any number of scrapers cost the database nothing more. Polls never
 * overlap; a failure is logged (once per streak) and the gauges keep their last values.
 */
export class BacklogPoller {
  private readonly backlog: Statement;
  private readonly schedule: PeriodicTask;
  private polling: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly pool: Queryable,
    private readonly options: BacklogPollerOptions,
    private readonly sink: BacklogSink,
    private readonly logger: Logger,
  ) {
    this.backlog = backlogStatement(options.table);
    this.schedule = new PeriodicTask(() => this.pollOnce(), options.intervalMs, () => this.polling);
  }

  /** Polls at once, then every interval (at least MIN_PERIOD_MS). */
  start(): void {
    this.schedule.start();
  }

  /** Idempotent, safe before start; waits for a poll in flight (it uses the pool). */
  stop(): Promise<void> {
    return this.schedule.stop();
  }

  /** One poll now (or the one in flight); never rejects. */
  pollOnce(): Promise<void> {
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async poll(): Promise<void> {
    try {
      const backlog = await this.pool.query<{ topic: string; pending: number; oldest_age_seconds: number | null; given_up: number }>(prepared(this.backlog));
      this.sink.recordBacklog(
        backlog.rows.map((r) => ({ topic: r.topic, pending: r.pending, oldestAgeSeconds: r.oldest_age_seconds ?? 0, givenUp: r.given_up })),
      );
      const health = await this.pool.query<{ dead_tuples: number; vacuum_age_seconds: number | null; table_bytes: number; index_bytes: number }>(
        prepared(TABLE_HEALTH, [this.options.table]),
      );
      const row = health.rows[0];
      if (row !== undefined) {
        this.sink.recordTableHealth({
          deadTuples: row.dead_tuples,
          lastVacuumAgeSeconds: row.vacuum_age_seconds ?? Number.NaN,
          tableBytes: row.table_bytes,
          indexBytes: row.index_bytes,
        });
      }
      if (this.failing) this.logger.info('backlog metrics are refreshed again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.logger.warn({ err: { message: errorMessage(err) } }, 'backlog metrics poll failed; gauges keep their last values');
      this.failing = true;
    }
  }
}
