import type { Pool } from 'pg';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it returns true; false when `timeoutMs` passed first. */
export async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * PostgreSQL restarts terminate every connection. pg-pool only listens for errors of idle clients; a
 * checked-out client whose server goes away between two queries emits 'error' with no listener and
 * would crash the process. Every pool of the suite swallows those (the next query fails and is handled).
 */
export function survivePostgresRestarts(pool: Pool): void {
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
}
