import type { Logger } from 'pino';
import { errorMessage } from '../errors';
import type { TableHealth, TopicBacklog } from './metrics';

// The poller's statements live here rather than in src/postgres/outbox-sql.ts only because that
// module belongs to another work item; they are read-only, run outside any claim transaction and
// take no locks beyond AccessShare, so they cannot interfere with claims or marks.
// TODO(lead): move BACKLOG_SQL and TABLE_HEALTH_SQL into outbox-sql.ts's named statements.

/**
 * Pending rows and the oldest one's age, per topic: configured ones feed the backlog gauges, the
 * others (rows this relay leaves to whoever owns them) the unconfigured gauge. `published_at IS
 * NULL` matches index_dionysus_outboxes_publishing_idx (partial on published_at IS NULL), so only
 * unpublished rows are visited however long the published history is. Rows waiting for a
 * retry count (they are late); given-up rows (retry_at = 'infinity') do not: they will never be
 * published, and counting them would pin the oldest-age alert on forever. Timestamps are UTC in
 * zone-less columns, hence `now() AT TIME ZONE 'UTC'`.
 */
export function backlogSql(table: string): string {
  return `SELECT topic,
                 count(*)::float8 AS pending,
                 extract(epoch FROM (now() AT TIME ZONE 'UTC') - min(created_at))::float8 AS oldest_age_seconds
            FROM ${table}
           WHERE published_at IS NULL
             AND retry_at IS DISTINCT FROM 'infinity'::timestamp
           GROUP BY topic`;
}

/**
 * Vacuum and size figures of the outbox table (a queue table lives on autovacuum keeping up with
 * its dead tuples). $1 is the quoted schema-qualified name; catalog reads only. The vacuum age is
 * NULL when the table was never vacuumed since statistics were reset.
 */
export const TABLE_HEALTH_SQL = `SELECT coalesce(s.n_dead_tup, 0)::float8 AS dead_tuples,
                                        extract(epoch FROM now() - greatest(s.last_autovacuum, s.last_vacuum))::float8 AS vacuum_age_seconds,
                                        pg_table_size(c.oid)::float8 AS table_bytes,
                                        pg_indexes_size(c.oid)::float8 AS index_bytes
                                   FROM pg_class c
                                   LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
                                  WHERE c.oid = to_regclass($1)`;

/** Floor of the poll interval, so a 0 in the settings cannot turn into a hot loop. */
export const MIN_BACKLOG_INTERVAL_MS = 100;

export interface BacklogSink {
  recordBacklog(rows: readonly TopicBacklog[]): void;
  recordTableHealth(health: TableHealth): void;
}

export interface BacklogPollerOptions {
  /** Quoted schema-qualified table name (postgres/outbox-sql.ts qualifiedTable). */
  readonly table: string;
  readonly intervalMs: number;
}

interface Queryable {
  query<R>(text: string, values: unknown[]): Promise<{ rows: R[] }>;
}

/**
 * Refreshes the backlog and table gauges every `intervalMs` with two cheap queries: the gauges are
 * never computed on scrape, so any number of scrapers cost the database nothing more. Polls never
 * overlap; a failure is logged (once per streak) and the gauges keep their last values.
 */
export class BacklogPoller {
  private readonly backlogText: string;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly pool: Queryable,
    private readonly options: BacklogPollerOptions,
    private readonly sink: BacklogSink,
    private readonly logger: Logger,
  ) {
    this.backlogText = backlogSql(options.table);
  }

  /** Polls at once, then every interval. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.tick();
  }

  /** Idempotent, safe before start; waits for a poll in flight (it uses the pool). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      await this.polling;
    })();
    return this.stopping;
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
      const backlog = await this.pool.query<{ topic: string; pending: number; oldest_age_seconds: number }>(this.backlogText, []);
      this.sink.recordBacklog(backlog.rows.map((r) => ({ topic: r.topic, pending: r.pending, oldestAgeSeconds: r.oldest_age_seconds })));
      const health = await this.pool.query<{ dead_tuples: number; vacuum_age_seconds: number | null; table_bytes: number; index_bytes: number }>(
        TABLE_HEALTH_SQL,
        [this.options.table],
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

  private async tick(): Promise<void> {
    await this.pollOnce();
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(MIN_BACKLOG_INTERVAL_MS, this.options.intervalMs));
  }
}
