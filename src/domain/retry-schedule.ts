// When to retry a row whose publication failed, in one place.
//
// The gem sets retry_at = now + 5 * 2^attempts seconds with the NEW attempts count (after the
// increment): 10 s, 20 s, 40 s, ... with no cap, no jitter and no attempt limit (compat doc §1).
// GEM_RETRY_POLICY reproduces that exactly; the other knobs add what the gem lacks while keeping
// the table readable by the Ruby side (still just retry_at and attempts).

export interface RetryPolicy {
  /** Delay for attempts = 0; doubles per attempt. The gem uses 5. Must be > 0. */
  baseSeconds: number;
  /** Upper bound applied after the doubling; 0 = no cap (the gem). */
  maxDelaySeconds: number;
  /** 0..1: the delay is shortened by up to this fraction at random; 0 = none (the gem). */
  jitterRatio: number;
  /** Give up once a row has failed this many times; 0 = retry forever (the gem). */
  maxAttempts: number;
}

export const GEM_RETRY_POLICY: RetryPolicy = { baseSeconds: 5, maxDelaySeconds: 0, jitterRatio: 0, maxAttempts: 0 };

export type RetryDecision = { giveUp: true } | { giveUp: false; delayMs: number };

/**
 * Ceiling for an uncapped delay: 100 years (of 365 days). 2^attempts overflows to Infinity
 * after ~1024 attempts and `now() + interval` fails in Postgres long before that (timestamps end
 * in year 294276), so even "no cap" is clamped; a row retried in 100 years is never retried in
 * practice, which is what the gem's ever-growing schedule amounts to as well.
 */
export const MAX_UNCAPPED_DELAY_SECONDS = 100 * 365 * 24 * 3600;

/** Problems with `p`, as human-readable strings; empty when the policy is usable. */
export function validateRetryPolicy(p: RetryPolicy): string[] {
  const problems: string[] = [];
  if (!(Number.isFinite(p.baseSeconds) && p.baseSeconds > 0)) {
    problems.push('baseSeconds must be > 0');
  }
  if (!(Number.isFinite(p.maxDelaySeconds) && p.maxDelaySeconds >= 0)) {
    problems.push('maxDelaySeconds must be >= 0 (0 = no cap)');
  }
  if (!(Number.isFinite(p.jitterRatio) && p.jitterRatio >= 0 && p.jitterRatio <= 1)) {
    problems.push('jitterRatio must be between 0 and 1');
  }
  if (!(Number.isInteger(p.maxAttempts) && p.maxAttempts >= 0)) {
    problems.push('maxAttempts must be an integer >= 0 (0 = unlimited)');
  }
  return problems;
}

/**
 * Decision after a failure, given the row's attempts count INCLUDING this failure.
 * - giveUp when maxAttempts > 0 and attemptsAfterFailure >= maxAttempts;
 * - otherwise delay = baseSeconds * 2^attempts, then capped (maxDelaySeconds, or the 100-year
 *   ceiling when uncapped), then jittered: delay * (1 - jitterRatio * random()). Jitter only
 *   shortens, so the cap holds after it. The result is floored to whole milliseconds.
 * `random` is injected (Math.random in production) so tests are deterministic; values outside
 * [0, 1] are clamped. Throws RangeError for an invalid policy or attempts count: both are
 * programming/configuration errors that must not turn into NaN retry times.
 */
export function decideRetry(attemptsAfterFailure: number, policy: RetryPolicy, random: () => number): RetryDecision {
  if (!Number.isInteger(attemptsAfterFailure) || attemptsAfterFailure < 0) {
    throw new RangeError(`attemptsAfterFailure must be an integer >= 0, got ${attemptsAfterFailure}`);
  }
  const problems = validateRetryPolicy(policy);
  if (problems.length > 0) throw new RangeError(`invalid retry policy: ${problems.join('; ')}`);

  if (policy.maxAttempts > 0 && attemptsAfterFailure >= policy.maxAttempts) return { giveUp: true };

  // 2 ** 2000 is Infinity, and Math.min(Infinity, cap) is the cap, so no overflow leaks out.
  const ceiling = policy.maxDelaySeconds > 0 ? policy.maxDelaySeconds : MAX_UNCAPPED_DELAY_SECONDS;
  const seconds = Math.min(policy.baseSeconds * 2 ** attemptsAfterFailure, ceiling);

  let factor = 1;
  if (policy.jitterRatio > 0) {
    const r = Math.min(Math.max(random(), 0), 1);
    factor = 1 - policy.jitterRatio * (Number.isNaN(r) ? 0 : r);
  }
  return { giveUp: false, delayMs: Math.floor(seconds * 1000 * factor) };
}
