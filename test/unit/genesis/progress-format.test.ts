import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ProgressMeter,
  estimateEtaMs,
  formatCount,
  formatDuration,
  formatPercent,
  formatProgressBar,
  formatProgressLine,
  formatRate,
  type ProgressSnapshot,
} from '../../../src/genesis/progress-format';

function manualClock(start = 5_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('formatting', () => {
  test('durations', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(400), '0s');
    assert.equal(formatDuration(45_000), '45s');
    assert.equal(formatDuration(185_000), '3m05s');
    assert.equal(formatDuration(3_720_000), '1h02m');
    assert.equal(formatDuration(2 * 86_400_000 + 3 * 3_600_000), '2d03h');
    assert.equal(formatDuration(-5), '0s');
  });

  test('counts, rates and percentages', () => {
    assert.equal(formatCount(0), '0');
    assert.equal(formatCount(999), '999');
    assert.equal(formatCount(10_000), '10,000');
    assert.equal(formatCount(1_234_567), '1,234,567');
    assert.equal(formatRate(2.46), '2.5/s');
    assert.equal(formatRate(152.4), '152/s');
    assert.equal(formatRate(1_500), '1,500/s');
    assert.equal(formatPercent(4_500, 10_000), '45.0%');
    assert.equal(formatPercent(12_000, 10_000), '100.0%', 'the total is an estimate: capped');
    assert.equal(formatPercent(0, 0), '100.0%');
    assert.equal(formatPercent(10, null), null);
  });

  const snapshot: ProgressSnapshot = { runId: '12', examined: 4_500, sent: 4_400, skipped: 100, total: 10_000, ratePerSecond: 152, etaMs: 36_000 };

  test('the terminal bar', () => {
    assert.equal(
      formatProgressBar(snapshot, 10),
      'genesis 12 [████░░░░░░] 45.0% 4,500/10,000 sent 4,400 skipped 100 152/s ETA 36s',
    );
    assert.equal(
      formatProgressBar({ ...snapshot, total: null, ratePerSecond: null, etaMs: null }, 10),
      'genesis 12 4,500 sent 4,400 skipped 100 rate ? ETA ?',
    );
  });

  test('the plain log line', () => {
    assert.equal(formatProgressLine(snapshot), 'genesis run 12: 4,500/10,000 (45.0%), sent 4,400, skipped 100, 152/s, ETA 36s');
  });
});

describe('ProgressMeter', () => {
  test('rate and ETA from the injected clock', () => {
    const clock = manualClock();
    const meter = new ProgressMeter(clock.now, 0);
    clock.advance(2_000);
    assert.deepEqual(meter.sample(200, 1_000), { ratePerSecond: 100, etaMs: 8_000 });
    clock.advance(2_000);
    assert.deepEqual(meter.sample(400, 1_000), { ratePerSecond: 100, etaMs: 6_000 });
  });

  test('a resumed run measures only what this session did', () => {
    const clock = manualClock();
    const meter = new ProgressMeter(clock.now, 5_000);
    clock.advance(1_000);
    assert.deepEqual(meter.sample(5_050, 10_000), { ratePerSecond: 50, etaMs: 99_000 });
  });

  test('the rate follows a change of pace within the window', () => {
    const clock = manualClock();
    const meter = new ProgressMeter(clock.now, 0, 10_000);
    for (let i = 1; i <= 20; i++) {
      clock.advance(1_000);
      meter.sample(i * 1_000, null); // 1,000/s for 20 s
    }
    for (let i = 1; i <= 15; i++) {
      clock.advance(1_000);
      meter.sample(20_000 + i * 100, null); // then 100/s
    }
    clock.advance(1_000);
    const { ratePerSecond, etaMs } = meter.sample(21_600, null);
    assert.ok(ratePerSecond !== null && Math.abs(ratePerSecond - 100) < 1, `rate ${ratePerSecond}`);
    assert.equal(etaMs, null, 'no total, no ETA');
  });

  test('no time elapsed: nothing to measure yet', () => {
    const clock = manualClock();
    const meter = new ProgressMeter(clock.now, 0);
    assert.deepEqual(meter.sample(100, 1_000), { ratePerSecond: null, etaMs: null });
  });

  test('ETA edge cases', () => {
    assert.equal(estimateEtaMs(1_000, 1_000, 0), 0, 'done is done, whatever the rate');
    assert.equal(estimateEtaMs(1_200, 1_000, 10), 0, 'past the estimate');
    assert.equal(estimateEtaMs(0, 1_000, 0), null, 'stalled: unknown');
    assert.equal(estimateEtaMs(0, 1_000, 3), 333_334);
  });
});
