import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coalesceRows } from '../../../src/domain/coalesce';

test('rows of one resource and event point at the last of them; others stand alone', () => {
  const rows = [
    { resourceClass: 'User', resourceId: '1', eventName: 'user_updated' },
    { resourceClass: 'User', resourceId: '2', eventName: 'user_updated' },
    { resourceClass: 'User', resourceId: '1', eventName: 'user_updated' },
    { resourceClass: 'User', resourceId: '1', eventName: 'user_destroyed' },
    { resourceClass: 'Admin::User', resourceId: '1', eventName: 'user_updated' },
    { resourceClass: 'User', resourceId: '1', eventName: 'user_updated' },
  ];
  assert.deepEqual(coalesceRows(rows), [5, 1, 5, 3, 4, 5]);
});
