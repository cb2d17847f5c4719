/** The first pause of `run` after a dependency failed to answer at start, in ms. */
export const FIRST_START_RETRY_MS = 250;

/**
 * The pause after the `failures`-th failed attempt in a row to reach a dependency at start:
 * doubling from FIRST_START_RETRY_MS up to `maxMs`, then "equal jitter" (between half and all of
 * it), so replicas started together by one deployment do not knock on the server in step, and a
 * pause never shrinks to nothing. `random` is in [0, 1).
 */
export function startRetryMs(failures: number, maxMs: number, random: () => number): number {
  const ceiling = Math.max(1, maxMs);
  const base = Math.min(ceiling, FIRST_START_RETRY_MS * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
  const r = random();
  const share = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return Math.round(base / 2 + (base / 2) * share);
}

/**
 * A failure's reason as logged and shown by readiness: without the parts librdkafka varies
 * from one attempt to the next ("(after 0ms in state CONNECT, 2 identical error(s) suppressed)").
 */
export function stableReason(reason: string): string {
  return reason
    .replace(/\s*\(after \d+ms in state [A-Z_]+(?:, \d+ identical error\(s\) suppressed)?\)/g, '')
    .trim();
}
