import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PLAIN_LINE_INTERVAL_MS, ProgressDisplay } from '../../../src/genesis/progress-display';
import type { ProgressSnapshot } from '../../../src/genesis/progress-format';

function stream(isTTY: boolean): { writes: string[]; write: (t: string) => boolean; isTTY: boolean } {
  const writes: string[] = [];
  return { writes, write: (t) => (writes.push(t), true), isTTY };
}

const at = (examined: number): ProgressSnapshot => ({
  runId: '3',
  examined,
  sent: examined,
  skipped: 0,
  total: 1_000,
  ratePerSecond: 100,
  etaMs: (1_000 - examined) * 10,
});

test('on a terminal: one bar redrawn in place; messages on their own line; a newline at the end', () => {
  const out = stream(true);
  const display = new ProgressDisplay(out, () => 0);
  display.update(at(100));
  display.update(at(200));
  display.line('SIGINT: stopping after the current page');
  display.update(at(300));
  display.finish();
  assert.equal(out.writes.length, 6);
  assert.ok(out.writes[0]?.startsWith('\rgenesis 3 [') && out.writes[0].endsWith('\x1b[K'), JSON.stringify(out.writes[0]));
  assert.match(out.writes[0] ?? '', /\] 10\.0% 100\/1,000 /);
  assert.match(out.writes[1] ?? '', /^\rgenesis 3 .* 20\.0% /);
  assert.equal(out.writes[2], '\r\x1b[K', 'the bar is cleared before a message');
  assert.equal(out.writes[3], 'SIGINT: stopping after the current page\n');
  assert.match(out.writes[4] ?? '', /30\.0%/);
  assert.equal(out.writes[5], '\n');
});

test('elsewhere: plain lines, at most one per interval, the last state written at the end', () => {
  let now = 0;
  const out = stream(false);
  const display = new ProgressDisplay(out, () => now);
  display.update(at(100));
  now += 500;
  display.update(at(200)); // held back
  now += PLAIN_LINE_INTERVAL_MS;
  display.update(at(300));
  now += 10;
  display.update(at(400)); // held back, written by finish()
  display.finish();
  assert.deepEqual(out.writes, [
    'genesis run 3: 100/1,000 (10.0%), sent 100, skipped 0, 100/s, ETA 9s\n',
    'genesis run 3: 300/1,000 (30.0%), sent 300, skipped 0, 100/s, ETA 7s\n',
    'genesis run 3: 400/1,000 (40.0%), sent 400, skipped 0, 100/s, ETA 6s\n',
  ]);
});
