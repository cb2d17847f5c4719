import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { errorMessage } from '../errors';
import { crashTrackerSql } from './crash-tracker-sql';

export interface TrackedBatch {
  readonly entryId: string;
  /** Claimed rows that were in flight when a relay crashed before. */
  readonly suspects: ReadonlySet<string>;
}

/**
 * Detects rows that crash or wedge the relay process (a serializer exhausting memory, a record that
 * kills the process): every batch is registered in dionysus_relay_inflight outside its transaction;
 * at start, entries left by dead instances mark their rows as suspects; a suspect is then published
 * alone, and one that keeps taking its relay down is set aside after `maxCrashes` as POISON_ROW
 * (retry_at = infinity), so the relay keeps publishing everything else.
 */
/** Dead instances are looked for again this often: a dead process's query can outlive it until statement_timeout. */
const RECOVERY_INTERVAL_MS = 60_000;

export class CrashTracker {
  private enabled = false;
  private timer: NodeJS.Timeout | undefined;
  private holder: PoolClient | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly table: string,
    /** This process's id; alive while its advisory lock is held (see crash-tracker-sql.ts). */
    readonly instance: string,
    private readonly maxCrashes: number,
    private readonly logger: Logger,
  ) {}

  get active(): boolean {
    return this.enabled;
  }

  /** Turns tracking on when its tables exist, counts crashes of dead instances, sets poison aside. */
  async start(): Promise<void> {
    if (this.maxCrashes <= 0) return;
    const exists = await this.pool.query<{ ok: boolean }>(crashTrackerSql.tablesExist);
    if (exists.rows[0]?.ok !== true) {
      this.logger.warn('crash tracking is off: run `dionysus-relay migrate` to create dionysus_relay_inflight and dionysus_relay_suspects');
      return;
    }
    // A connection of its own holds this instance's advisory lock for the process's lifetime.
    this.holder = await this.pool.connect();
    this.holder.on('error', () => undefined);
    await this.holder.query(crashTrackerSql.holdInstance, [this.instance]);
    this.enabled = true;
    await this.recover();
    this.timer = setInterval(() => {
      this.recover().catch((err: unknown) => this.logger.warn({ err: { message: errorMessage(err) } }, 'crash recovery check failed'));
    }, RECOVERY_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.holder?.release(true);
    this.holder = undefined;
  }

  /** Counts the crashes of dead instances and sets aside rows that reached the limit. */
  private async recover(): Promise<void> {
    const crashed = await this.pool.query<{ row_id: string; crashes: number }>(crashTrackerSql.recover);
    if (crashed.rows.length > 0) {
      this.logger.warn({ rows: crashed.rows.length }, 'rows were in flight when a relay process died: they are published one at a time from now on');
    }
    const aside = await this.pool.query<{ id: string; topic: string; resource_class: string; resource_id: string }>(
      crashTrackerSql.setAside(this.table),
      [this.maxCrashes],
    );
    for (const row of aside.rows) {
      this.logger.error(
        { row: String(row.id), topic: row.topic, resource: `${row.resource_class}:${row.resource_id}`, maxCrashes: this.maxCrashes },
        'row set aside as POISON_ROW: it crashed or wedged the relay repeatedly',
      );
    }
  }

  async begin(rowIds: readonly string[]): Promise<TrackedBatch | undefined> {
    if (!this.enabled) return undefined;
    const result = await this.pool.query<{ id: string; suspects: string[] }>({
      name: crashTrackerSql.begin.name,
      text: crashTrackerSql.begin.text,
      values: [this.instance, rowIds],
    });
    const row = result.rows[0];
    if (row === undefined) return undefined;
    return { entryId: String(row.id), suspects: new Set(row.suspects.map(String)) };
  }

  /** Re-registers the batch as only `rowIds` (a suspect isolated from its batch). */
  async narrow(batch: TrackedBatch, rowIds: readonly string[]): Promise<void> {
    await this.pool.query({ name: crashTrackerSql.narrow.name, text: crashTrackerSql.narrow.text, values: [batch.entryId, rowIds] });
  }

  async end(batch: TrackedBatch | undefined, publishedSuspects: readonly string[]): Promise<void> {
    if (batch === undefined) return;
    try {
      await this.pool.query({ name: crashTrackerSql.end.name, text: crashTrackerSql.end.text, values: [batch.entryId] });
      if (publishedSuspects.length > 0) {
        await this.pool.query({ name: crashTrackerSql.clear.name, text: crashTrackerSql.clear.text, values: [publishedSuspects] });
      }
    } catch (err) {
      // Left behind, the entry is counted as a crash only once this instance is gone.
      this.logger.warn({ err: { message: errorMessage(err) } }, 'could not clear the in-flight entry of a batch');
    }
  }
}
