import type { Logger } from 'pino';
import { stableReason, startRetryMs } from '../domain/start-backoff';
import { RelayError, errorMessage } from '../errors';
import { WakeableSleep } from './sleep';

/** The services `run` needs before it can publish. */
export type Dependency = 'postgres' | 'kafka';

export const DEPENDENCY_LABELS: Readonly<Record<Dependency, string>> = { postgres: 'PostgreSQL', kafka: 'Kafka' };

/** What readiness shows for a dependency while `run` waits for it. */
export interface DependencyState {
  readonly ok: boolean;
  readonly detail: string;
  /** Attempts that failed so far (shown by /readyz: how long it has been trying). */
  readonly failedAttempts?: number;
}

export interface DependencyWaitOptions {
  /** Cap of the pause between two attempts (RELAY_START_RETRY_MAX_MS). */
  readonly maxRetryMs: number;
  /** In [0, 1), for the jitter of the pauses. */
  readonly random: () => number;
  readonly logger: Logger;
}

/** until()'s answer when stop() ended the wait. */
export const STOPPED = Symbol('stopped');

/**
 * `run` waiting for PostgreSQL and Kafka at start, so a relay started before them (a sidecar in a
 * pod whose database is still coming up) serves /healthz and an explanatory /readyz meanwhile and
 * starts publishing when they answer, in the same process.
 *
 * Each dependency is tried until an attempt succeeds, with capped, jittered pauses in between. An
 * attempt fails with a RelayError: a retriable one (the server does not answer) is waited out, any
 * other (it answers and refuses our credentials, database name or certificate) ends the wait at
 * once, for the CLI to exit 2. The log gets one line per distinct failure, not one per attempt,
 * and one when the dependency answers after failing. stop() (a signal) ends every wait at once,
 * without waiting for an attempt in flight.
 */
export class DependencyWait {
  private readonly states = new Map<Dependency, DependencyState>();
  private readonly sleeper = new WakeableSleep();
  private stopped = false;
  private readonly stopSignal: Promise<typeof STOPPED>;
  private resolveStop: () => void = () => undefined;

  constructor(private readonly options: DependencyWaitOptions) {
    this.stopSignal = new Promise((resolve) => {
      this.resolveStop = () => resolve(STOPPED);
    });
  }

  /** The state of `dependency` as of its last attempt. */
  status(dependency: Dependency): DependencyState {
    return this.states.get(dependency) ?? { ok: false, detail: `waiting for ${DEPENDENCY_LABELS[dependency]}: not tried yet` };
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Ends every wait: until() answers STOPPED at once. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.sleeper.close();
    this.resolveStop();
  }

  /**
   * `work` (a wait for one dependency and what follows it) as it is, except that its failure ends
   * every other wait at once: a start that cannot succeed does not keep waiting for the rest.
   */
  failsAll<T>(work: Promise<T>): Promise<T> {
    return work.catch((err: unknown) => {
      this.stop();
      throw err;
    });
  }

  /** Tries `attempt` until it succeeds (its value), stop() is called (STOPPED), or it fails for good (rejects). */
  async until<T>(dependency: Dependency, attempt: () => Promise<T>): Promise<T | typeof STOPPED> {
    const label = DEPENDENCY_LABELS[dependency];
    const startedAt = Date.now();
    let failures = 0;
    let lastReason: string | undefined;
    for (;;) {
      if (this.stopped) return STOPPED;
      const outcome = await Promise.race([
        attempt().then(
          (value) => ({ ok: true as const, value }),
          (err: unknown) => ({ ok: false as const, err }),
        ),
        this.stopSignal,
      ]);
      if (outcome === STOPPED) return STOPPED;
      if (outcome.ok) {
        this.states.set(dependency, { ok: true, detail: `${label} answers` });
        if (failures > 0) {
          this.options.logger.info({ dependency, failedAttempts: failures, waitedMs: Date.now() - startedAt }, `${label} answers: done waiting for it`);
        }
        return outcome.value;
      }
      const reason = stableReason(failureReason(outcome.err));
      failures += 1;
      this.states.set(dependency, { ok: false, detail: `waiting for ${label}: ${reason}`, failedAttempts: failures });
      if (!(outcome.err instanceof RelayError) || !outcome.err.retriable) throw outcome.err;
      const pauseMs = startRetryMs(failures, this.options.maxRetryMs, this.options.random);
      if (reason !== lastReason) {
        // A new kind of failure: worth a line. The same one again is not (attempts go on quietly).
        this.options.logger.warn({ dependency, reason, retryInMs: pauseMs }, `waiting for ${label}: ${reason}`);
        lastReason = reason;
      }
      await this.sleeper.sleep(pauseMs);
    }
  }
}

/** The short reason an attempt's error carries (context.reason), else its message. */
function failureReason(err: unknown): string {
  if (err instanceof RelayError && typeof err.context['reason'] === 'string' && err.context['reason'] !== '') return err.context['reason'];
  return errorMessage(err);
}
