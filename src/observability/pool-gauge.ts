import { Gauge, type Registry } from 'prom-client';
import { METRICS } from './metric-definitions';

/** The slice of pg's Pool read on scrape. */
export interface PoolCounts {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/**
 * `<name>{state="active|idle|waiting"}` of a pool read on every scrape (the relay's and the sink's).
 * Parts only, never their total beside them: sum() over states (or over relays) stays meaningful,
 * and the open connections are active + idle.
 */
export function poolGauge(registry: Registry, name: string, source: () => PoolCounts | undefined): void {
  new Gauge({
    name,
    help: METRICS.poolConnections.help,
    labelNames: METRICS.poolConnections.labelNames,
    registers: [registry],
    collect() {
      const pool = source();
      if (pool === undefined) return;
      this.set({ state: 'active' }, Math.max(0, pool.totalCount - pool.idleCount));
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
}
