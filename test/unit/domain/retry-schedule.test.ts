import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  GEM_RETRY_POLICY,
  MAX_UNCAPPED_DELAY_SECONDS,
  decideRetry,
  validateRetryPolicy,
  type RetryPolicy,
} from '../../../src/domain/retry-schedule';

const noRandom = (): number => {
  throw new Error('random must not be called without jitter');
};
const fixed = (r: number) => (): number => r;

function delayOf(attempts: number, policy: RetryPolicy, random: () => number = noRandom): number {
  const d = decideRetry(attempts, policy, random);
  assert.equal(d.giveUp, false);
  if (d.giveUp) throw new Error('unreachable');
  return d.delayMs;
}

describe('decideRetry with the gem policy', () => {
  test('policy values are the gem defaults', () => {
    assert.deepEqual(GEM_RETRY_POLICY, { baseSeconds: 5, maxDelaySeconds: 0, jitterRatio: 0, maxAttempts: 0 });
  });

  test('5 * 2^attempts seconds with the new attempts count: 10 s, 20 s, 40 s', () => {
    assert.equal(delayOf(1, GEM_RETRY_POLICY), 10_000);
    assert.equal(delayOf(2, GEM_RETRY_POLICY), 20_000);
    assert.equal(delayOf(3, GEM_RETRY_POLICY), 40_000);
    assert.equal(delayOf(4, GEM_RETRY_POLICY), 80_000);
    assert.equal(delayOf(10, GEM_RETRY_POLICY), 5_120_000); // 5 * 1024 s
  });

  test('attempts 0 gives the base delay', () => {
    assert.equal(delayOf(0, GEM_RETRY_POLICY), 5_000);
  });

  test('never gives up', () => {
    assert.equal(decideRetry(1_000_000, GEM_RETRY_POLICY, noRandom).giveUp, false);
  });

  test('huge attempts stay finite: clamped to 100 years', () => {
    assert.equal(MAX_UNCAPPED_DELAY_SECONDS, 3_153_600_000); // 100 * 365 * 86400
    assert.equal(delayOf(2000, GEM_RETRY_POLICY), 3_153_600_000_000);
    assert.equal(delayOf(1_000_000, GEM_RETRY_POLICY), 3_153_600_000_000);
    // 5 * 2^29 s = 2684354560 s is still below the clamp, 2^30 is above
    assert.equal(delayOf(29, GEM_RETRY_POLICY), 2_684_354_560_000);
    assert.equal(delayOf(30, GEM_RETRY_POLICY), 3_153_600_000_000);
  });
});

describe('decideRetry with a cap', () => {
  const capped: RetryPolicy = { baseSeconds: 5, maxDelaySeconds: 300, jitterRatio: 0, maxAttempts: 0 };

  test('below the cap the schedule is unchanged', () => {
    assert.equal(delayOf(1, capped), 10_000);
    assert.equal(delayOf(5, capped), 160_000);
  });

  test('the cap applies after exponentiation', () => {
    assert.equal(delayOf(6, capped), 300_000); // 320 s → 300 s
    assert.equal(delayOf(50, capped), 300_000);
  });

  test('large attempts give the cap, not Infinity or NaN', () => {
    assert.equal(delayOf(2000, capped), 300_000);
    assert.equal(delayOf(Number.MAX_SAFE_INTEGER, capped), 300_000);
  });

  test('a cap below the base caps every delay', () => {
    assert.equal(delayOf(1, { ...capped, maxDelaySeconds: 2 }), 2_000);
  });

  test('fractional seconds are supported', () => {
    assert.equal(delayOf(1, { ...capped, baseSeconds: 0.25 }), 500);
  });
});

describe('decideRetry with jitter', () => {
  const jittered: RetryPolicy = { baseSeconds: 5, maxDelaySeconds: 0, jitterRatio: 0.5, maxAttempts: 0 };

  test('random 0 keeps the full delay', () => {
    assert.equal(delayOf(1, jittered, fixed(0)), 10_000);
  });

  test('random close to 1 shortens by up to jitterRatio', () => {
    const d = delayOf(1, jittered, fixed(0.999));
    // 10000 * (1 - 0.5 * 0.999) = 5005 (floored, so 5004 or 5005 depending on float rounding)
    assert.ok(d >= 5004 && d <= 5005, String(d));
    assert.ok(d >= 5_000 && d <= 10_000);
  });

  test('random 0.5 with ratio 0.5 → 75 %', () => {
    assert.equal(delayOf(2, jittered, fixed(0.5)), 15_000);
  });

  test('ratio 1 can shorten almost to zero but never below', () => {
    const d = delayOf(1, { ...jittered, jitterRatio: 1 }, fixed(0.999));
    assert.ok(d >= 0 && d <= 10, String(d));
  });

  test('jitter never exceeds the cap', () => {
    const policy: RetryPolicy = { baseSeconds: 5, maxDelaySeconds: 60, jitterRatio: 0.3, maxAttempts: 0 };
    for (const r of [0, 0.1, 0.5, 0.999]) {
      for (const attempts of [1, 3, 4, 10, 2000]) {
        const d = delayOf(attempts, policy, fixed(r));
        assert.ok(d <= 60_000, `${attempts}/${r}: ${d}`);
        assert.ok(d >= 0.7 * Math.min(5_000 * 2 ** attempts, 60_000) - 1, `${attempts}/${r}: ${d}`);
      }
    }
  });

  test('out-of-range random values are clamped to [0, 1]', () => {
    assert.equal(delayOf(1, jittered, fixed(-1)), 10_000);
    assert.equal(delayOf(1, jittered, fixed(2)), 5_000);
    assert.equal(delayOf(1, jittered, fixed(Number.NaN)), 10_000);
  });

  test('random is called once per decision', () => {
    let calls = 0;
    delayOf(3, jittered, () => {
      calls++;
      return 0.25;
    });
    assert.equal(calls, 1);
  });
});

describe('decideRetry giving up', () => {
  const limited: RetryPolicy = { baseSeconds: 5, maxDelaySeconds: 0, jitterRatio: 0, maxAttempts: 3 };

  test('retries before maxAttempts failures', () => {
    assert.equal(delayOf(1, limited), 10_000);
    assert.equal(delayOf(2, limited), 20_000);
  });

  test('gives up at and after maxAttempts', () => {
    assert.deepEqual(decideRetry(3, limited, noRandom), { giveUp: true });
    assert.deepEqual(decideRetry(4, limited, noRandom), { giveUp: true });
  });

  test('maxAttempts 1 gives up after the first failure', () => {
    assert.deepEqual(decideRetry(1, { ...limited, maxAttempts: 1 }, noRandom), { giveUp: true });
  });
});

describe('decideRetry input validation', () => {
  test('invalid attempts throw RangeError', () => {
    for (const n of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => decideRetry(n, GEM_RETRY_POLICY, noRandom), RangeError, String(n));
    }
  });

  test('an invalid policy throws RangeError naming the problem', () => {
    assert.throws(
      () => decideRetry(1, { ...GEM_RETRY_POLICY, baseSeconds: 0 }, noRandom),
      /baseSeconds must be > 0/,
    );
  });
});

describe('validateRetryPolicy', () => {
  test('the gem policy is valid', () => {
    assert.deepEqual(validateRetryPolicy(GEM_RETRY_POLICY), []);
  });

  test('a fully configured policy is valid', () => {
    assert.deepEqual(validateRetryPolicy({ baseSeconds: 1, maxDelaySeconds: 3600, jitterRatio: 1, maxAttempts: 25 }), []);
  });

  test('each field is checked', () => {
    assert.deepEqual(validateRetryPolicy({ ...GEM_RETRY_POLICY, baseSeconds: 0 }), ['baseSeconds must be > 0']);
    assert.deepEqual(validateRetryPolicy({ ...GEM_RETRY_POLICY, baseSeconds: -5 }), ['baseSeconds must be > 0']);
    assert.deepEqual(validateRetryPolicy({ ...GEM_RETRY_POLICY, baseSeconds: Number.POSITIVE_INFINITY }), [
      'baseSeconds must be > 0',
    ]);
    assert.deepEqual(validateRetryPolicy({ ...GEM_RETRY_POLICY, maxDelaySeconds: -1 }), [
      'maxDelaySeconds must be >= 0 (0 = no cap)',
    ]);
    assert.deepEqual(validateRetryPolicy({ ...GEM_RETRY_POLICY, jitterRatio: 1.5 }), [
      'jitterRatio must be between 0 and 1',
    ]);
    assert.deepEqual(validateRetryPolicy({ ...GEM_RETRY_POLICY, jitterRatio: -0.1 }), [
      'jitterRatio must be between 0 and 1',
    ]);
    assert.deepEqual(validateRetryPolicy({ ...GEM_RETRY_POLICY, maxAttempts: 2.5 }), [
      'maxAttempts must be an integer >= 0 (0 = unlimited)',
    ]);
    assert.deepEqual(validateRetryPolicy({ ...GEM_RETRY_POLICY, maxAttempts: -1 }), [
      'maxAttempts must be an integer >= 0 (0 = unlimited)',
    ]);
  });

  test('NaN everywhere reports every field', () => {
    const nan = Number.NaN;
    assert.equal(validateRetryPolicy({ baseSeconds: nan, maxDelaySeconds: nan, jitterRatio: nan, maxAttempts: nan }).length, 4);
  });
});
