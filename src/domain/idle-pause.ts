/** The first pause after a round of empty claims, in ms. */
export const FIRST_IDLE_PAUSE_MS = 5;

/**
 * How long a worker sleeps after its `emptyRounds`-th full round of empty claims in a row: short at
 * first, so that under a steady trickle of rows a worker that just missed them comes back within
 * milliseconds instead of a whole poll interval (the other worker is busy with a batch meanwhile),
 * then doubling up to `maxMs` (RELAY_POLL_INTERVAL_MS) so an idle relay costs the database a claim
 * per interval. A NOTIFY wake-up or a claim that finds rows starts the sequence over.
 */
export function idlePauseMs(emptyRounds: number, maxMs: number): number {
  if (emptyRounds <= 0) return 0;
  const pause = FIRST_IDLE_PAUSE_MS * 2 ** Math.min(emptyRounds - 1, 30);
  return Math.min(pause, maxMs);
}
