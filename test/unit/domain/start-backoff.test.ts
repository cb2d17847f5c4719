import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIRST_START_RETRY_MS, stableReason, startRetryMs } from '../../../src/domain/start-backoff';

test('pauses double from the first one up to the cap; jitter keeps each between half and all of it', () => {
  const full = (failures: number): number => startRetryMs(failures, 4000, () => 0.999999);
  const half = (failures: number): number => startRetryMs(failures, 4000, () => 0);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(full), [FIRST_START_RETRY_MS, 500, 1000, 2000, 4000, 4000, 4000]);
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(half), [125, 250, 500, 1000, 2000, 2000]);
  const middle = startRetryMs(3, 4000, () => 0.5);
  assert.ok(middle > 500 && middle < 1000, String(middle));
});

test('odd inputs stay finite and positive: a cap below the first pause, huge counts, a broken random', () => {
  assert.equal(startRetryMs(1, 100, () => 0.999999), 100);
  assert.equal(startRetryMs(10_000, 10_000, () => 0.999999), 10_000);
  assert.equal(startRetryMs(0, 10_000, () => 0), 125);
  assert.equal(startRetryMs(1, 10_000, () => Number.NaN), 125);
  assert.equal(startRetryMs(1, 0, () => 0.999999), 1);
});

test("librdkafka's per-attempt counters are not part of a reason, so the same failure reads the same", () => {
  const first = '127.0.0.1:9312/bootstrap: Connect to ipv4#127.0.0.1:9312 failed: Connection refused (after 0ms in state CONNECT)';
  const later = '127.0.0.1:9312/bootstrap: Connect to ipv4#127.0.0.1:9312 failed: Connection refused (after 1ms in state CONNECT, 3 identical error(s) suppressed)';
  assert.equal(stableReason(first), stableReason(later));
  assert.equal(stableReason(first), '127.0.0.1:9312/bootstrap: Connect to ipv4#127.0.0.1:9312 failed: Connection refused');
  assert.equal(stableReason('connect ECONNREFUSED 127.0.0.1:5562'), 'connect ECONNREFUSED 127.0.0.1:5562');
});
