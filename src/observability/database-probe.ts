import type { Logger } from 'pino';
import { errorMessage } from '../errors';
import { PeriodicTask } from '../lifecycle/periodic-task';
import { PING } from '../postgres/session-sql';
import { prepared } from '../postgres/statement';
import type { CheckResult } from './health';

/** A probe query slower than this counts as "PostgreSQL is not answering". */
export const DATABASE_PROBE_TIMEOUT_MS = 3000;

export interface DatabaseProbeOptions {
  readonly intervalMs: number;
  readonly timeoutMs?: number;
}

/**
 * Readiness's view of PostgreSQL: `SELECT 1` through the relay's pool every `intervalMs`, so a
 * burst of /readyz requests costs nothing and the answer follows an outage and its recovery
 * without a restart. At most one probe query is in flight; one that outlives the timeout marks
 * the database down while it keeps waiting.
 */
export class DatabaseProbe {
  private current: CheckResult = { ok: false, detail: 'not checked yet' };
  private checked = false;
  private inflight: Promise<void> | undefined;
  private readonly schedule: PeriodicTask;

  constructor(
    private readonly pool: { query(query: { name: string; text: string; values: unknown[] }): Promise<unknown> },
    private readonly options: DatabaseProbeOptions,
    private readonly logger: Logger,
  ) {
    this.schedule = new PeriodicTask(() => this.check(), options.intervalMs, () => this.inflight);
  }

  status(): CheckResult {
    return this.current;
  }

  /** Checks at once, then every interval (at least MIN_PERIOD_MS). */
  start(): void {
    this.schedule.start();
  }

  /** Idempotent, safe before start; waits for a probe in flight (it uses the pool). */
  stop(): Promise<void> {
    return this.schedule.stop();
  }

  /** One check now (unless one is in flight); resolves when it is decided. */
  async check(): Promise<void> {
    if (this.inflight !== undefined) return;
    const timeoutMs = this.options.timeoutMs ?? DATABASE_PROBE_TIMEOUT_MS;
    let timeout: NodeJS.Timeout | undefined;
    const query = this.pool.query(prepared(PING)).then(
      () => ({ ok: true, detail: 'SELECT 1 answered' }),
      (err: unknown) => ({ ok: false, detail: `SELECT 1 failed: ${errorMessage(err)}` }),
    );
    this.inflight = query.then(() => {
      this.inflight = undefined;
    });
    const timedOut = new Promise<CheckResult>((resolve) => {
      timeout = setTimeout(() => resolve({ ok: false, detail: `SELECT 1 did not answer within ${timeoutMs} ms` }), timeoutMs);
    });
    const result = await Promise.race([query, timedOut]);
    clearTimeout(timeout);
    this.update(result);
    // A late answer after a timeout still counts: the database is back.
    if (!result.ok) void query.then((late) => late.ok && this.update(late));
  }

  private update(result: CheckResult): void {
    // Log transitions, and a first check that fails; a first success is the expected start.
    if (this.checked ? result.ok !== this.current.ok : !result.ok) {
      if (result.ok) this.logger.info('PostgreSQL answers again: ready');
      else this.logger.warn({ detail: result.detail }, 'PostgreSQL does not answer: not ready');
    }
    this.current = result;
    this.checked = true;
  }
}
