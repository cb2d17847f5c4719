import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyFailure, decideRowOutcome, rowFailure, type RowFailure } from '../../../src/domain/row-outcome';
import { GEM_RETRY_POLICY } from '../../../src/domain/retry-schedule';

const failure = (code: RowFailure['code'], retriable = false): RowFailure => ({ code, retriable, message: `${code} detail` });
const never = (): number => {
  throw new Error('no jitter asked for');
};

test('a row without a failure is published', () => {
  assert.deepEqual(decideRowOutcome(undefined, 4, GEM_RETRY_POLICY, never), { kind: 'published' });
});

test('failures that are not the row\'s are never counted: held back, or released for broker trouble', () => {
  assert.equal(classifyFailure(failure('RESOURCE_HELD', true)), 'held-back');
  assert.equal(classifyFailure(failure('KAFKA_UNAVAILABLE', true)), 'released');
  assert.equal(classifyFailure(failure('KAFKA_DELIVERY_FAILED', true)), 'released');
  assert.deepEqual(decideRowOutcome(failure('RESOURCE_HELD', true), 0, GEM_RETRY_POLICY, never), { kind: 'held-back' });
  assert.deepEqual(decideRowOutcome(failure('KAFKA_DELIVERY_FAILED', true), 0, GEM_RETRY_POLICY, never), { kind: 'released' });
});

test('the row\'s own failures are counted, a delivery error included when it is not transport-level', () => {
  for (const code of ['KAFKA_DELIVERY_FAILED', 'KAFKA_PRODUCE_FAILED', 'KAFKA_TOPIC_UNAVAILABLE', 'MESSAGE_TOO_LARGE', 'SERIALIZER_FAILED', 'SERIALIZER_TIMEOUT', 'ENCODING_FAILED', 'RECORD_INVALID', 'UNKNOWN_MODEL'] as const) {
    assert.equal(classifyFailure(failure(code)), 'counted', code);
  }
  // Serializer errors are retriable (the next attempt may succeed) and still the row's.
  assert.equal(classifyFailure(failure('SERIALIZER_TIMEOUT', true)), 'counted');
});

test('a counted failure follows the retry schedule with the attempts including this one', () => {
  assert.deepEqual(decideRowOutcome(failure('SERIALIZER_FAILED', true), 0, GEM_RETRY_POLICY, never), {
    kind: 'failed',
    errorClass: 'SERIALIZER_FAILED',
    errorMessage: 'SERIALIZER_FAILED detail',
    attempts: 1,
    retryInMs: 10_000,
  });
  assert.equal((decideRowOutcome(failure('ENCODING_FAILED'), 2, GEM_RETRY_POLICY, never) as { retryInMs: number }).retryInMs, 40_000);
  const limited = { ...GEM_RETRY_POLICY, maxAttempts: 3 };
  assert.deepEqual(decideRowOutcome(failure('UNKNOWN_MODEL'), 2, limited, never), {
    kind: 'given-up',
    errorClass: 'UNKNOWN_MODEL',
    errorMessage: 'UNKNOWN_MODEL detail',
    attempts: 3,
  });
  const jittered = { ...GEM_RETRY_POLICY, jitterRatio: 0.5 };
  assert.equal((decideRowOutcome(failure('ENCODING_FAILED'), 0, jittered, () => 1) as { retryInMs: number }).retryInMs, 5_000);
});

test('the failure that decides a row: its own, else its first failed delivery', () => {
  assert.equal(rowFailure('own', ['late']), 'own');
  assert.equal(rowFailure(undefined, [null, 'second', 'third']), 'second');
  assert.equal(rowFailure(undefined, [null, null]), undefined);
  assert.equal(rowFailure<string>(undefined, []), undefined);
});
