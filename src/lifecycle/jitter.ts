import { randomInt } from 'node:crypto';

/** Pseudo-random in [0, 1) for the jitter of retries and slot polls; injected so tests can fix it. */
export function jitterRandom(): number {
  return randomInt(0, 1_000_000) / 1_000_000;
}
