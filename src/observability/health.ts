import type { RelayEvents } from '../relay/relay-events';

/**
 * What /healthz and /readyz answer, decided here without I/O (the clock is injected).
 *
 * - Liveness: the loop is not stuck. Every finished claim attempt (rows or not) is a heartbeat;
 *   no heartbeat for `livenessTimeoutMs` means the process should be restarted. A database or
 *   broker outage is NOT a liveness failure as long as the loop keeps trying: restarting would not
 *   bring the dependency back.
 * - Readiness: the relay can do its work right now: configuration validated and the loop started,
 *   PostgreSQL answering (the last periodic check), the Kafka producer connected.
 */

export interface CheckResult {
  readonly ok: boolean;
  /** Why not, or what was seen; shown in the JSON body. */
  readonly detail: string;
}

export interface LivenessReport {
  readonly ok: boolean;
  /** Milliseconds since the last finished claim attempt (or since start, before the first one). */
  readonly sinceLastClaimMs: number;
  readonly timeoutMs: number;
  readonly reason?: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: { readonly config: CheckResult; readonly postgres: CheckResult; readonly kafka: CheckResult };
  /** Names of the failing checks. */
  readonly down: readonly string[];
}

export interface HealthSources {
  readonly livenessTimeoutMs: number;
  /** The periodic PostgreSQL check. */
  readonly database: { status(): CheckResult };
  readonly kafka: { isConnected(): boolean };
  /** Milliseconds; Date.now in production, a fake in tests. */
  readonly now?: () => number;
  /** Words of the JSON bodies for another loop (the sink); default: the relay's. */
  readonly wording?: { readonly loop: string; readonly heartbeat: string; readonly kafkaClient: string };
}

const RELAY_WORDING = { loop: 'relay loop', heartbeat: 'claim attempt', kafkaClient: 'producer' };

export class HealthMonitor implements Pick<RelayEvents, 'claimFinished'> {
  private readonly now: () => number;
  private lastClaimAt: number;
  private started = false;

  constructor(private readonly sources: HealthSources) {
    this.now = sources.now ?? Date.now;
    this.lastClaimAt = this.now();
  }

  /** The loop is running: readiness may turn true, and the liveness clock starts now. */
  markStarted(): void {
    this.started = true;
    this.lastClaimAt = this.now();
  }

  claimFinished(): void {
    this.lastClaimAt = this.now();
  }

  liveness(): LivenessReport {
    const since = Math.max(0, this.now() - this.lastClaimAt);
    const timeoutMs = this.sources.livenessTimeoutMs;
    if (since <= timeoutMs) return { ok: true, sinceLastClaimMs: since, timeoutMs };
    return {
      ok: false,
      sinceLastClaimMs: since,
      timeoutMs,
      reason: `no ${(this.sources.wording ?? RELAY_WORDING).heartbeat} finished for ${since} ms (health.livenessTimeoutMs = ${timeoutMs})`,
    };
  }

  readiness(): ReadinessReport {
    const kafkaUp = this.sources.kafka.isConnected();
    const words = this.sources.wording ?? RELAY_WORDING;
    const checks = {
      config: this.started ? { ok: true, detail: `validated; ${words.loop} started` } : { ok: false, detail: 'starting' },
      postgres: this.sources.database.status(),
      kafka: kafkaUp ? { ok: true, detail: `${words.kafkaClient} connected` } : { ok: false, detail: `${words.kafkaClient} not connected` },
    };
    const down = Object.entries(checks)
      .filter(([, result]) => !result.ok)
      .map(([name]) => name);
    return { ready: down.length === 0, checks, down };
  }
}
