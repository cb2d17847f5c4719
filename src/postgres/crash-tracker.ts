import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { errorMessage } from '../errors';
import { probeCapabilities } from './capabilities';
import { crashTrackerSql, setAsideStatement } from './crash-tracker-sql';
import { LOCK_INSTANCE } from './lock-sql';
import { prepared } from './statement';

export interface TrackedBatch {
  readonly entryId: string;
  /** Claimed rows that were in flight when a relay crashed before. */
  readonly suspects: ReadonlySet<string>;
}

/** Dead instances are looked for again this often: a dead process's query can outlive it until statement_timeout. */
const RECOVERY_INTERVAL_MS = 60_000;

/** Pause before taking the instance lock again after its connection was lost, doubled up to 30 s. */
const RELOCK_PAUSE_MS = 500;
const RELOCK_PAUSE_MAX_MS = 30_000;

/**
 * Detects rows that crash or wedge the relay process (a serializer exhausting memory, a record that
 * kills the process): every batch is registered in dionysus_relay_inflight outside its transaction;
 * at start, entries left by dead instances mark their rows as suspects; a suspect is then published
 * alone, and one that keeps taking its relay down is set aside after `maxCrashes` as POISON_ROW
 * (retry_at = infinity), so the relay keeps publishing everything else.
 */
export class CrashTracker {
  private enabled = false;
  private guard = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private relockTimer: NodeJS.Timeout | undefined;
  /** The connection holding this instance's lock (LOCK_INSTANCE) while the process lives. */
  private instanceLockClient: PoolClient | undefined;
  /** Entries whose deletion failed (database down): retried with the next batch's. */
  private readonly uncleared = new Set<string>();
  /** Entries of this instance's batches still being worked on. */
  private readonly inProgress = new Set<string>();

  constructor(
    private readonly pool: Pool,
    private readonly table: string,
    /** This process's id; alive while its advisory lock is held (see crash-tracker-sql.ts). */
    readonly instance: string,
    private readonly maxCrashes: number,
    private readonly logger: Logger,
  ) {}

  /**
   * True when batches register their claim transaction and resource keys (sql/004), so that the
   * claim can skip resources a frozen relay may still publish (LOCK_RESOURCES_GUARDED).
   */
  get guarding(): boolean {
    return this.enabled && this.guard;
  }

  /** Turns tracking on when its tables exist, counts crashes of dead instances, sets poison aside. */
  async start(): Promise<void> {
    if (this.maxCrashes <= 0) return;
    const capabilities = await probeCapabilities(this.pool, this.table);
    if (!capabilities.crashTracking) {
      this.logger.warn('crash tracking is off: run `dionysus-relay migrate` to create dionysus_relay_inflight and dionysus_relay_suspects');
      return;
    }
    this.guard = capabilities.frozenRelayGuard;
    if (!this.guard) {
      this.logger.warn('frozen-relay guard is off: run `dionysus-relay migrate` (sql/004) so that a relay resuming from a freeze cannot be overtaken');
    }
    await this.lockInstance();
    this.enabled = true;
    await this.recover();
    this.timer = setInterval(() => {
      this.recover().catch((err: unknown) => this.logger.warn({ err: { message: errorMessage(err) } }, 'crash recovery check failed'));
    }, RECOVERY_INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.relockTimer);
    this.timer = undefined;
    this.instanceLockClient?.release(true);
    this.instanceLockClient = undefined;
  }

  /**
   * A connection of its own holds this instance's advisory lock for the process's lifetime. When
   * that connection is lost (PostgreSQL restarted), the lock is taken again on a new one: until
   * then other relays count this instance's batches in flight as crashes, and their guard no
   * longer protects this instance's queued messages.
   */
  private async lockInstance(): Promise<void> {
    const client = await this.pool.connect();
    client.on('error', (err) => {
      if (this.instanceLockClient !== client) return;
      this.instanceLockClient = undefined;
      client.release(err);
      this.logger.warn({ err: { message: err.message } }, 'lost the connection holding this relay instance\'s lock; taking it again');
      this.relockLater(RELOCK_PAUSE_MS);
    });
    try {
      await client.query(prepared(LOCK_INSTANCE, [this.instance]));
    } catch (err) {
      client.release(err as Error);
      throw err;
    }
    this.instanceLockClient = client;
  }

  private relockLater(delayMs: number): void {
    if (this.stopped) return;
    this.relockTimer = setTimeout(() => {
      this.lockInstance().then(
        () => this.logger.info('relay instance lock taken again'),
        () => this.relockLater(Math.min(delayMs * 2, RELOCK_PAUSE_MAX_MS)),
      );
    }, delayMs);
    this.relockTimer.unref();
  }

  /**
   * Counts the crashes of dead instances and sets aside rows that reached the limit; deletes this
   * instance's own entries that belong to no batch in progress (their deletion failed earlier).
   */
  private async recover(): Promise<void> {
    await this.pool.query(prepared(crashTrackerSql.sweepOwn, [this.instance, [...this.inProgress]]));
    const crashed = await this.pool.query<{ row_id: string; crashes: number }>(prepared(crashTrackerSql.recover));
    if (crashed.rows.length > 0) {
      this.logger.warn({ rows: crashed.rows.length }, 'rows were in flight when a relay process died: they are published one at a time from now on');
    }
    const aside = await this.pool.query<{ id: string; topic: string; resource_class: string; resource_id: string }>(
      prepared(setAsideStatement(this.table), [this.maxCrashes]),
    );
    for (const row of aside.rows) {
      this.logger.error(
        { row: String(row.id), topic: row.topic, resource: `${row.resource_class}:${row.resource_id}`, maxCrashes: this.maxCrashes },
        'row set aside as POISON_ROW: it crashed or wedged the relay repeatedly',
      );
    }
  }

  /**
   * Registers the batch's rows as in flight and returns the suspects among them. With `keys` (the
   * resources the batch will lock, when they are known this early) they are registered in the same
   * statement, and registerKeys is not needed.
   */
  async begin(rowIds: readonly string[], claimXid: string | undefined, keys?: readonly string[]): Promise<TrackedBatch | undefined> {
    if (!this.enabled) return undefined;
    if (this.uncleared.size > 0) await this.clearEntries([]);
    const [statement, values] = !this.guard
      ? [crashTrackerSql.begin, [this.instance, rowIds]]
      : keys === undefined
        ? [crashTrackerSql.beginWithXid, [this.instance, rowIds, claimXid ?? null]]
        : [crashTrackerSql.beginWithKeys, [this.instance, rowIds, claimXid ?? null, keys]];
    const result = await this.pool.query<{ id: string; suspects: string[] }>(prepared(statement, values));
    const row = result.rows[0];
    if (row === undefined) return undefined;
    this.inProgress.add(String(row.id));
    return { entryId: String(row.id), suspects: new Set(row.suspects.map(String)) };
  }

  /**
   * Re-registers the batch as only `rowIds` (a suspect isolated from its batch), and as holding
   * only `keys` when its keys were registered with its entry.
   */
  async narrow(batch: TrackedBatch, rowIds: readonly string[], keys?: readonly string[]): Promise<void> {
    const [statement, values] =
      this.guard && keys !== undefined ? [crashTrackerSql.narrowWithKeys, [batch.entryId, rowIds, keys]] : [crashTrackerSql.narrow, [batch.entryId, rowIds]];
    await this.pool.query(prepared(statement, values));
  }

  /**
   * Registers the resources the batch holds locks on, before it sends anything: if this process
   * is then frozen past its claim transaction, other relays leave these resources alone until
   * the entry is cleared (LOCK_RESOURCES_GUARDED in lock-sql.ts).
   */
  async registerKeys(batch: TrackedBatch | undefined, keys: readonly string[]): Promise<void> {
    if (batch === undefined || !this.guard || keys.length === 0) return;
    await this.pool.query(prepared(crashTrackerSql.registerKeys, [batch.entryId, keys]));
  }

  /** Clears the batch's entry once nothing of it can still be sent (delivered, failed or never queued). */
  async end(batch: TrackedBatch | undefined, publishedSuspects: readonly string[]): Promise<void> {
    if (batch === undefined) return;
    await this.clearEntries([batch.entryId]);
    if (publishedSuspects.length === 0) return;
    try {
      await this.pool.query(prepared(crashTrackerSql.clear, [publishedSuspects]));
    } catch (err) {
      this.logger.warn({ err: { message: errorMessage(err) } }, 'could not clear published crash suspects');
    }
  }

  private async clearEntries(entryIds: readonly string[]): Promise<void> {
    for (const id of entryIds) this.inProgress.delete(id);
    // Taken out while being deleted, so concurrent calls neither repeat nor lose an id.
    const ids = [...this.uncleared, ...entryIds];
    this.uncleared.clear();
    try {
      await this.pool.query(prepared(crashTrackerSql.end, [ids]));
    } catch (err) {
      // Left behind while this instance lives, an abandoned batch's entry would hold its resources
      // back from other relays (and count as a crash once the instance is gone): retried with the
      // next batch, and swept every RECOVERY_INTERVAL_MS.
      for (const id of ids) this.uncleared.add(id);
      this.logger.warn({ err: { message: errorMessage(err) }, entries: ids.length }, 'could not clear the in-flight entry of a batch; will retry');
    }
  }
}
