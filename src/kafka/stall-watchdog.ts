import { RelayError } from '../errors';
import { anyBrokerAccepts, brokerlessTooLong } from './broker-probe';

/** How long a broker must keep accepting connections that the producer does not use before the watchdog fires. */
const REACHABLE_GRACE_MS = 30_000;
const PROBE_TIMEOUT_MS = 3000;

export interface StallWatchdogOptions {
  /** The producer's bootstrap list (metadata.broker.list). */
  readonly brokers: string;
  /** No broker UP for this long, while the brokers accept connections, is a stall; 0 = off. */
  readonly stallRestartMs: number;
  /** Called once, at the first stall: the process must restart. */
  readonly onStalled?: ((err: RelayError) => void) | undefined;
}

/**
 * librdkafka can end up with no broker at all and not bootstrap again (seen with librdkafka 2.12.0
 * after a broker restart: every metadata request failing with "Broker transport failure" for
 * minutes while other clients had reconnected). Batches in flight then never get their delivery
 * reports. Fed with every statistics blob: when no broker has been UP for stallRestartMs, and a
 * broker of the list has kept accepting TCP connections for REACHABLE_GRACE_MS meanwhile (so this
 * is not an outage, nor a broker just back from one that librdkafka is about to reconnect to),
 * onStalled is called once.
 */
export class StallWatchdog {
  /** Since when the statistics show no broker UP (undefined while one is). */
  private noBrokerSince: number | undefined;
  private probing = false;
  /** Since when a broker of the list has accepted TCP connections while none was UP for us. */
  private reachableSince: number | undefined;
  private reported = false;

  constructor(private readonly options: StallWatchdogOptions) {}

  get enabled(): boolean {
    return this.options.stallRestartMs > 0;
  }

  observe(anyUp: boolean): void {
    const stallMs = this.options.stallRestartMs;
    if (stallMs <= 0 || this.reported) return;
    const now = Date.now();
    this.noBrokerSince = anyUp ? undefined : (this.noBrokerSince ?? now);
    if (anyUp) this.reachableSince = undefined;
    if (this.probing || !brokerlessTooLong(this.noBrokerSince, now, stallMs)) return;
    const since = this.noBrokerSince ?? now;
    this.probing = true;
    void anyBrokerAccepts(this.options.brokers, PROBE_TIMEOUT_MS)
      .then((reachable) => {
        if (!reachable) {
          this.reachableSince = undefined;
          return;
        }
        this.reachableSince ??= Date.now();
        if (this.reported || this.noBrokerSince === undefined || Date.now() - this.reachableSince < REACHABLE_GRACE_MS) return;
        this.reported = true;
        this.options.onStalled?.(
          new RelayError(
            'KAFKA_UNAVAILABLE',
            `no broker connection for ${Math.round((Date.now() - since) / 1000)} s although the brokers accept connections: the producer lost its brokers and must be restarted`,
            { retriable: true },
          ),
        );
      })
      .finally(() => (this.probing = false));
  }
}

/** Whether a real broker (not a bootstrap entry) is UP; undefined when the statistics list none. */
export function anyBrokerUp(stats: unknown): boolean | undefined {
  const brokers = (stats as { brokers?: Record<string, { nodeid?: number; state?: string }> } | null)?.brokers;
  if (brokers === undefined || brokers === null) return undefined;
  const real = Object.values(brokers).filter((b) => typeof b.nodeid === 'number' && b.nodeid >= 0);
  if (real.length === 0) return undefined;
  return real.some((b) => b.state === 'UP');
}
