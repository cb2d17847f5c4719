import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../../../src/domain/duration';

test('units and combinations', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('45s'), 45_000);
  assert.equal(parseDuration('30m'), 1_800_000);
  assert.equal(parseDuration('12h'), 43_200_000);
  assert.equal(parseDuration('3d'), 259_200_000);
  assert.equal(parseDuration('2w'), 1_209_600_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1.5s'), 1500);
});

test('anything else is refused with an example', () => {
  for (const bad of ['', '3', 'd', '3 days', '-1d', '3d junk']) {
    assert.throws(() => parseDuration(bad), /is not a duration \(examples/);
  }
});
