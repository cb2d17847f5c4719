import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spreadRate } from '../../../src/genesis/genesis-options';
import { Pacer, pageSize } from '../../../src/genesis/pacing';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test('unpaced: never waits', () => {
  const clock = manualClock();
  const pacer = new Pacer(null, clock.now);
  assert.equal(pacer.delayMs(0), 0);
  assert.equal(pacer.delayMs(1_000_000), 0);
});

test('the n-th record is due n / rate seconds after the start', () => {
  const clock = manualClock();
  const pacer = new Pacer(100, clock.now); // 100 records/s
  assert.equal(pacer.delayMs(0), 0);
  assert.equal(pacer.delayMs(100), 1_000, 'a page of 100 at once, then wait 1 s');
  clock.advance(1_000);
  assert.equal(pacer.delayMs(200), 1_000);
  clock.advance(1_000);
  assert.equal(pacer.delayMs(250), 500);
});

test('time spent loading a page shortens the next wait instead of adding to it', () => {
  const clock = manualClock();
  const pacer = new Pacer(50, clock.now);
  clock.advance(700); // the first page of 50 took 0.7 s to load and deliver
  assert.equal(pacer.delayMs(50), 300);
  clock.advance(1_500); // a slow page: already late, no wait at all
  assert.equal(pacer.delayMs(100), 0);
});

test('fractional rates round the wait up to whole milliseconds', () => {
  const clock = manualClock();
  const pacer = new Pacer(3, clock.now);
  assert.equal(pacer.delayMs(1), 334);
});

test('--over spreads the total evenly: 10,000 records over 30m is 5.56 records/s', () => {
  assert.equal(spreadRate(10_000, 30 * 60_000), 10_000 / 1_800);
  assert.equal(spreadRate(0, 60_000), 1 / 60, 'an empty total still progresses');
  const clock = manualClock();
  const pacer = new Pacer(spreadRate(10_000, 30 * 60_000), clock.now);
  assert.equal(pacer.delayMs(10_000), 30 * 60_000, 'the last record is due at the end of the duration');
});

test('a paced page holds at most one second of records', () => {
  assert.equal(pageSize(500, null), 500);
  assert.equal(pageSize(500, 2_000), 500);
  assert.equal(pageSize(500, 100), 100);
  assert.equal(pageSize(500, 5.5), 6);
  assert.equal(pageSize(500, 0.01), 1);
});
