import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIRST_IDLE_PAUSE_MS, idlePauseMs } from '../../../src/domain/idle-pause';

test('the pause doubles from the first one per empty round, up to the poll interval', () => {
  const pauses = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => idlePauseMs(n, 200));
  assert.deepEqual(pauses, [5, 10, 20, 40, 80, 160, 200, 200]);
  assert.equal(FIRST_IDLE_PAUSE_MS, pauses[0]);
});

test('no pause before an empty round; a poll interval below the first pause wins; huge counts stay finite', () => {
  assert.equal(idlePauseMs(0, 200), 0);
  assert.equal(idlePauseMs(1, 2), 2);
  assert.equal(idlePauseMs(0, 0), 0);
  assert.equal(idlePauseMs(10_000, 1000), 1000);
});
