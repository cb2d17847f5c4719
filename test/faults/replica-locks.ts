import type { Pool } from 'pg';
import { SLOT_HOLDERS } from '../../src/postgres/slot-sql';
import { prepared } from '../../src/postgres/statement';

/**
 * What the relays hold in PostgreSQL's lock table, read from pg_locks: per relay process (its
 * connections carry application_name `dionysus-relay:<instance>`), its slot, its resource locks
 * (one-key advisory locks other than its instance lock) and all its advisory locks; and the whole
 * table's use (entries that are not fast-path, i.e. that take room in the shared table).
 */

export interface RelayLocks {
  readonly instance: string;
  readonly slots: number;
  readonly resourceLocks: number;
  readonly advisoryLocks: number;
}

export interface LockSample {
  readonly relays: readonly RelayLocks[];
  /** Entries of the shared lock table in use (every backend, the application's included). */
  readonly tableEntries: number;
}

export interface SlotHolder {
  readonly slot: number;
  readonly pid: number;
  readonly instance: string;
}

const RELAY_LOCKS = `
  SELECT split_part(a.application_name, ':', 2) AS instance,
         count(*) FILTER (WHERE l.objsubid = 2)::int AS slots,
         count(*) FILTER (WHERE l.objsubid = 1
                            AND ((l.classid::bigint << 32) | l.objid::bigint)
                                <> hashtextextended('dionysus_relay_instance:' || split_part(a.application_name, ':', 2), 0))::int AS resource_locks,
         count(*)::int AS advisory_locks
    FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
   WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE 'dionysus-relay:%'
   GROUP BY 1`;

const TABLE_ENTRIES = `SELECT count(*)::int AS n FROM pg_locks WHERE NOT fastpath`;

export async function sampleLocks(pool: Pool): Promise<LockSample> {
  const [relays, entries] = await Promise.all([
    pool.query<{ instance: string; slots: number; resource_locks: number; advisory_locks: number }>(RELAY_LOCKS),
    pool.query<{ n: number }>(TABLE_ENTRIES),
  ]);
  return {
    relays: relays.rows.map((r) => ({ instance: r.instance, slots: r.slots, resourceLocks: r.resource_locks, advisoryLocks: r.advisory_locks })),
    tableEntries: entries.rows[0]?.n ?? 0,
  };
}

/** The slots of `table` (quoted, qualified) held now, with the relay instance holding each. */
export async function slotHolders(pool: Pool, table: string): Promise<SlotHolder[]> {
  const holders = await pool.query<{ slot: number; pid: number }>(prepared(SLOT_HOLDERS, [table]));
  if (holders.rows.length === 0) return [];
  const names = await pool.query<{ pid: number; application_name: string }>('SELECT pid, application_name FROM pg_stat_activity WHERE pid = ANY($1::int[])', [
    holders.rows.map((h) => h.pid),
  ]);
  const byPid = new Map(names.rows.map((r) => [r.pid, r.application_name.split(':')[1] ?? '']));
  return holders.rows.map((h) => ({ slot: h.slot, pid: h.pid, instance: byPid.get(h.pid) ?? '' }));
}

/** Peaks over the samples taken while it runs (a sample every `everyMs`; a peak between two samples is missed). */
export class LockSampler {
  samples = 0;
  maxClaiming = 0;
  maxSlotHolders = 0;
  maxRelayAdvisoryLocks = 0;
  maxActiveResourceLocks = 0;
  maxTableEntries = 0;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly pool: Pool,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const sample = await sampleLocks(this.pool);
      this.samples += 1;
      this.maxClaiming = Math.max(this.maxClaiming, sample.relays.filter((r) => r.resourceLocks > 0).length);
      this.maxSlotHolders = Math.max(this.maxSlotHolders, sample.relays.reduce((n, r) => n + r.slots, 0));
      this.maxRelayAdvisoryLocks = Math.max(this.maxRelayAdvisoryLocks, ...sample.relays.map((r) => r.advisoryLocks));
      this.maxActiveResourceLocks = Math.max(this.maxActiveResourceLocks, sample.relays.reduce((n, r) => n + r.resourceLocks, 0));
      this.maxTableEntries = Math.max(this.maxTableEntries, sample.tableEntries);
      await new Promise((resolve) => setTimeout(resolve, this.everyMs));
    }
  }
}
