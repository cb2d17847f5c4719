import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parentIdFromChangeset, parentTarget, parentsFromChangeset } from '../../../src/domain/publish-targets';
import type { ClaimedRow } from '../../../src/domain/outbox-row';

test('a parent target is <parent_singular>_updated without the dependency row partition key', () => {
  assert.deepEqual(parentTarget('Booking', '12'), { model: 'Booking', resourceId: '12', eventName: 'booking_updated', partitionKey: null });
  assert.equal(parentTarget('Admin::Booking', '1').eventName, 'admin_booking_updated');
});

test('the parent id of a deleted dependency comes from its changeset', () => {
  assert.equal(parentIdFromChangeset({ booking_id: [12, null] }, 'booking_id'), '12');
  assert.equal(parentIdFromChangeset({ booking_id: [12, 13] }, 'booking_id'), '13');
  assert.equal(parentIdFromChangeset({ booking_id: 7 }, 'booking_id'), '7');
  assert.equal(parentIdFromChangeset({ other: 1 }, 'booking_id'), undefined);
  assert.equal(parentIdFromChangeset(null, 'booking_id'), undefined);
  const row = { changeset: { booking_id: [4, null] } } as unknown as ClaimedRow;
  const configs = [
    { name: 'Fee', parentModel: 'Booking', parentsSql: '', parentFromChangeset: 'booking_id', path: '' },
    { name: 'Fee', parentModel: 'Invoice', parentsSql: '', parentFromChangeset: undefined, path: '' },
  ];
  assert.deepEqual(parentsFromChangeset(row, configs), [parentTarget('Booking', '4')]);
});
