import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TopicConfig } from '../../../src/config/topics-types';
import { updatedTarget } from '../../../src/domain/publish-targets';
import { RelayError } from '../../../src/errors';
import type { RowTargets } from '../../../src/relay/batch-targets';
import { targetKeys, withinLockCap } from '../../../src/relay/resource-locks';

// withinLockCap keeps a batch's resource locks within the relay's lock budget: rows whose keys do
// not fit are left pending (RESOURCE_HELD, no attempt counted), never locked.

const topic = { name: 'v1_bookings' } as TopicConfig;
const targets = (...ids: string[]): RowTargets => ids.map((id) => updatedTarget(topic, 'Booking', id));
const shape = (rows: readonly RowTargets[]): unknown => rows.map((t) => (t instanceof RelayError ? t.code : t.map((x) => x.resourceId)));

test('no cap: every row as it is', () => {
  const rows = [targets('1', '2'), targets('3')];
  assert.deepEqual(shape(withinLockCap(rows, undefined)), [['1', '2'], ['3']]);
});

test('rows are taken in order while their distinct keys fit; later rows that do not fit are held back', () => {
  const rows = [targets('1', '2'), targets('2', '3'), targets('4', '5'), targets('6'), [], new RelayError('UNKNOWN_MODEL', 'x')];
  const capped = withinLockCap(rows, 4);
  // 1, 2 | 3 (2 is already taken) | 4, 5 would make 5 | 6 fits as the fourth.
  assert.deepEqual(shape(capped), [['1', '2'], ['2', '3'], 'RESOURCE_HELD', ['6'], [], 'UNKNOWN_MODEL']);
  assert.equal(new Set(targetKeys(capped)).size, 4);
  const held = capped[2] as RelayError;
  assert.equal(held.retriable, true);
  assert.match(held.message, /lock budget \(4 resource locks\) is spent/);
});

test('the first row with targets goes whole even over the cap, so that it is ever published', () => {
  const capped = withinLockCap([[], targets('1', '2', '3'), targets('4')], 2);
  assert.deepEqual(shape(capped), [[], ['1', '2', '3'], 'RESOURCE_HELD']);
});
