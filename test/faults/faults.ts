import type { Pool } from 'pg';
import type { FaultSuiteOptions, FaultType } from './options';
import type { SupervisedRelay } from './relays';
import type { Rng } from './rng';
import type { Services } from './services';
import { sleep, waitUntil } from './time';

/** One injected fault: what, on whom, when (epoch ms) and how it went. */
export interface FaultRecord {
  readonly type: FaultType;
  readonly target: string;
  readonly startMs: number;
  endMs: number;
  /** relay faults: the target held claimed rows (an open transaction with an xid) just before the signal. */
  midBatch: boolean | undefined;
  detail: string;
  /**
   * Recovery: ms from the end of the fault until every row committed before that end was published
   * (undefined when that took longer than CATCH_UP_TIMEOUT_MS). The next fault waits for it, so
   * each fault's duplicates surface before the next one starts.
   */
  caughtUpMs: number | undefined;
}

const MID_BATCH_WAIT_MS = 3000;
const KAFKA_DOWN_MS: [number, number] = [3000, 8000];
const RESTART_DELAY_MS: [number, number] = [0, 1500];
const FREEZE_EXTRA_MS: [number, number] = [2000, 4000];
const CATCH_UP_TIMEOUT_MS = 120_000;

/**
 * Injects faults one after another at random moments (seeded) until the fault window is over and
 * every requested fault type was injected at least once. Faults never overlap: each one ends with
 * its service or relay back (started, thawed, restarted) before the next pause begins.
 */
export class FaultInjector {
  readonly records: FaultRecord[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly options: FaultSuiteOptions,
    private readonly relays: readonly SupervisedRelay[],
    private readonly services: Services,
    private readonly monitor: Pool,
    private readonly log: (line: string) => void,
    private readonly sinks: readonly SupervisedRelay[] = [],
  ) {}

  async run(untilMs: number): Promise<void> {
    const mustDo = this.rng.shuffle(this.options.faultTypes);
    if (mustDo.length === 0) {
      // Baseline: writers and relays only, for the same time.
      await sleep(Math.max(0, untilMs - Date.now()));
      return;
    }
    while (Date.now() < untilMs || mustDo.length > 0) {
      await sleep(this.rng.int(this.options.gapMinMs, this.options.gapMaxMs));
      const type = mustDo.shift() ?? this.rng.pick(this.options.faultTypes);
      const record = await this.inject(type);
      this.records.push(record);
      record.caughtUpMs = await this.waitCaughtUp(record.endMs);
      const caughtUp = record.caughtUpMs === undefined ? 'not caught up' : `caught up ${(record.caughtUpMs / 1000).toFixed(1)} s later`;
      this.log(`${record.type.padEnd(16)} ${record.target.padEnd(28)} ${((record.endMs - record.startMs) / 1000).toFixed(1).padStart(5)} s, ${caughtUp}; ${record.detail}`);
    }
  }

  private async inject(type: FaultType): Promise<FaultRecord> {
    switch (type) {
      case 'relay-kill':
        return this.killRelay();
      case 'relay-freeze':
        return this.freezeRelay();
      case 'kafka-stop':
        return this.stopKafka();
      case 'postgres-restart':
        return this.restartPostgres();
      case 'sink-kill':
        return this.killRelay('sink-kill', this.sinks);
    }
  }

  /** kill -9 of a relay (or of a sink: its batch transaction in flight rolls back, its offsets were not committed). */
  private async killRelay(type: 'relay-kill' | 'sink-kill' = 'relay-kill', among: readonly SupervisedRelay[] = this.relays): Promise<FaultRecord> {
    const relay = await this.pickRunning(among);
    const midBatch = await this.waitForClaim(relay);
    const record = this.begin(type, relay.name, midBatch);
    await relay.kill9();
    const delay = this.rng.int(...RESTART_DELAY_MS);
    await sleep(delay);
    relay.start();
    const up = await relay.waitRunning(60_000);
    record.endMs = Date.now();
    record.detail = `kill -9, restarted after ${delay} ms${up ? '' : ' (not running again within 60 s)'}`;
    return record;
  }

  private async freezeRelay(): Promise<FaultRecord> {
    const relay = await this.pickRunning(this.relays);
    const midBatch = await this.waitForClaim(relay);
    const record = this.begin('relay-freeze', relay.name, midBatch);
    const holdMs = this.options.idleInTransactionTimeoutMs + this.rng.int(...FREEZE_EXTRA_MS);
    relay.freeze();
    await sleep(holdMs);
    relay.thaw();
    record.endMs = Date.now();
    record.detail = `SIGSTOP for ${holdMs} ms (idle_in_transaction_session_timeout ${this.options.idleInTransactionTimeoutMs} ms), then SIGCONT`;
    return record;
  }

  private async stopKafka(): Promise<FaultRecord> {
    const record = this.begin('kafka-stop', 'kafka', undefined);
    await this.services.run('stop', 'kafka');
    const downMs = this.rng.int(...KAFKA_DOWN_MS);
    await sleep(downMs);
    const restarting = Date.now();
    await this.services.run('start', 'kafka');
    record.endMs = Date.now();
    record.detail = `stopped, down ${downMs} ms, start took ${((record.endMs - restarting) / 1000).toFixed(1)} s`;
    return record;
  }

  private async restartPostgres(): Promise<FaultRecord> {
    const record = this.begin('postgres-restart', 'postgres', undefined);
    await this.services.run('restart', 'postgres');
    record.endMs = Date.now();
    record.detail = 'services.sh restart postgres (fast shutdown: every connection terminated)';
    return record;
  }

  private begin(type: FaultType, target: string, midBatch: boolean | undefined): FaultRecord {
    const now = Date.now();
    return { type, target, startMs: now, endMs: now, midBatch, detail: '', caughtUpMs: undefined };
  }

  /** Waits until every row committed before `sinceMs` is published; returns how long after `sinceMs` that was. */
  private async waitCaughtUp(sinceMs: number): Promise<number | undefined> {
    const done = await waitUntil(async () => {
      try {
        const result = await this.monitor.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM dionysus_outboxes
            WHERE published_at IS NULL AND created_at <= ($1::timestamptz AT TIME ZONE 'UTC')`,
          [new Date(sinceMs)],
        );
        return result.rows[0]?.n === 0;
      } catch {
        return false;
      }
    }, CATCH_UP_TIMEOUT_MS, 100);
    return done ? Math.max(0, Date.now() - sinceMs) : undefined;
  }

  /** A process that is up (waits for one while they restart after an earlier fault). */
  private async pickRunning(among: readonly SupervisedRelay[]): Promise<SupervisedRelay> {
    await waitUntil(() => among.some((r) => r.isRunning && !r.isFrozen), 90_000);
    const candidates = among.filter((r) => r.isRunning && !r.isFrozen);
    return this.rng.pick(candidates.length > 0 ? candidates : among);
  }

  /**
   * Waits (briefly) until the relay holds claimed rows, so the signal lands mid-batch: its claim
   * transaction has an xid (FOR UPDATE took row locks; a sink's batch transaction has one once it wrote). Best effort: after MID_BATCH_WAIT_MS the
   * signal is sent anyway.
   */
  private async waitForClaim(relay: SupervisedRelay): Promise<boolean> {
    return waitUntil(async () => {
      try {
        const result = await this.monitor.query(
          'SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND backend_xid IS NOT NULL LIMIT 1',
          [relay.name],
        );
        return (result.rowCount ?? 0) > 0;
      } catch {
        return false;
      }
    }, MID_BATCH_WAIT_MS, 5);
  }
}
