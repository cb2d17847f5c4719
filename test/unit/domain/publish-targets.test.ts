import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TopicConfig } from '../../../src/config/topics-types';
import { changesetTouches, parentIdFromChangeset, parentsFromChangeset, updatedTarget } from '../../../src/domain/publish-targets';
import type { ClaimedRow } from '../../../src/domain/outbox-row';

const topic = { key: 'bookings', name: 'v3_bookings' } as TopicConfig;

test('a related target is <model_singular>_updated without the row partition key', () => {
  assert.deepEqual(updatedTarget(topic, 'Booking', '12'), { topic, model: 'Booking', resourceId: '12', eventName: 'booking_updated', partitionKey: null });
  assert.equal(updatedTarget(topic, 'Admin::Booking', '1').eventName, 'admin_booking_updated');
});

test('the parent id of a deleted dependency comes from its changeset', () => {
  assert.equal(parentIdFromChangeset({ booking_id: [12, null] }, 'booking_id'), '12');
  assert.equal(parentIdFromChangeset({ booking_id: [12, 13] }, 'booking_id'), '13');
  assert.equal(parentIdFromChangeset({ booking_id: 7 }, 'booking_id'), '7');
  assert.equal(parentIdFromChangeset({ other: 1 }, 'booking_id'), undefined);
  assert.equal(parentIdFromChangeset(null, 'booking_id'), undefined);
  const row: ClaimedRow = {
    id: '1',
    resourceClass: 'BookingsFee',
    resourceId: '9',
    eventName: 'bookings_fee_destroyed',
    topic: 'v3_bookings',
    partitionKey: null,
    attempts: 0,
    createdAtMs: 0,
    changeset: { booking_id: [4, null] },
  };
  const configs = [
    { name: 'Fee', parentModel: 'Booking', parentsSql: '', parentFromChangeset: 'booking_id', path: '' },
    { name: 'Fee', parentModel: 'Invoice', parentsSql: '', parentFromChangeset: undefined, path: '' },
  ];
  assert.deepEqual(parentsFromChangeset(row, topic, configs), [updatedTarget(topic, 'Booking', '4')]);
});

test('an observer fires only for the attributes it watches', () => {
  assert.equal(changesetTouches({ default_check_in_time: ['15:00', '14:00'] }, ['default_check_in_time']), true);
  assert.equal(changesetTouches({ name: ['a', 'b'] }, ['default_check_in_time']), false);
  assert.equal(changesetTouches(null, ['default_check_in_time']), false);
});
