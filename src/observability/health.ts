import type { RelayEvents } from '../relay/relay-events';

/**
 * What /healthz and /readyz answer, decided here without I/O (the clock is injected).
 *
 * - Liveness: the loop is not stuck. Every finished claim attempt (rows or not) is a heartbeat;
 *   no heartbeat for `livenessTimeoutMs` means the process should be restarted. A database or
 *   broker outage is NOT a liveness failure as long as the loop keeps trying: restarting would not
 *   bring the dependency back. Nor is the time before the loop starts (`run` waiting for them).
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
  /** When not ready: the details of the failing dependencies (or of the start), one sentence. */
  readonly reason?: string;
}

export interface HealthSources {
  readonly livenessTimeoutMs: number;
  /** The periodic PostgreSQL check. */
  readonly database: { status(): CheckResult };
  readonly kafka: { isConnected(): boolean };
  /**
   * Until markStarted(): what `run` knows of each dependency while it waits for them
   * (DependencyWait), shown instead of the two sources above, which only work once connected.
   */
  readonly startup?: { status(dependency: 'postgres' | 'kafka'): CheckResult };
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
    // Before the loop starts the process connects, or waits for its dependencies: restarting it
    // would not bring them back, so that time is never a stall, however long it lasts.
    if (!this.started) return { ok: true, sinceLastClaimMs: 0, timeoutMs: this.sources.livenessTimeoutMs };
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
    const words = this.sources.wording ?? RELAY_WORDING;
    const startup = this.started ? undefined : this.sources.startup;
    const kafkaUp = this.sources.kafka.isConnected();
    const checks = {
      config: this.started ? { ok: true, detail: `validated; ${words.loop} started` } : { ok: false, detail: 'starting' },
      postgres: startup?.status('postgres') ?? this.sources.database.status(),
      kafka:
        startup?.status('kafka') ?? (kafkaUp ? { ok: true, detail: `${words.kafkaClient} connected` } : { ok: false, detail: `${words.kafkaClient} not connected` }),
    };
    const failing = Object.entries(checks).filter(([, result]) => !result.ok);
    const down = failing.map(([name]) => name);
    if (down.length === 0) return { ready: true, checks, down };
    // The dependencies explain more than "starting" does: name them first when they are down.
    const dependencies = failing.filter(([name]) => name !== 'config');
    const reason = (dependencies.length > 0 ? dependencies : failing).map(([, result]) => result.detail).join('; ');
    return { ready: false, checks, down, reason };
  }
}
