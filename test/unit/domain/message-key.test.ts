import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { eventName, messageKey, modelSingular } from '../../../src/domain/message-key';

describe('messageKey', () => {
  test('class name, colon, id', () => {
    assert.equal(messageKey('User', '1'), 'User:1');
    assert.equal(messageKey('BookingsFee', '42'), 'BookingsFee:42');
  });

  test('namespaced class names are kept as is', () => {
    assert.equal(messageKey('Admin::User', '5'), 'Admin::User:5');
  });

  test('UUID ids', () => {
    assert.equal(
      messageKey('Rental', '550e8400-e29b-41d4-a716-446655440000'),
      'Rental:550e8400-e29b-41d4-a716-446655440000',
    );
  });
});

describe('modelSingular (ActiveModel::Name#singular)', () => {
  // Expected values follow ActiveSupport's String#underscore followed by tr("/", "_").
  const cases: Array<[string, string]> = [
    ['User', 'user'],
    ['BookingsFee', 'bookings_fee'],
    ['RentalsTax', 'rentals_tax'],
    ['Admin::User', 'admin_user'],
    ['Bookings::Fees::LineItem', 'bookings_fees_line_item'],
    ['HTTPRequest', 'http_request'],
    ['HTMLToPDF', 'html_to_pdf'],
    ['ABTest', 'ab_test'],
    ['S3Bucket', 's3_bucket'],
    ['Api::V1::User', 'api_v1_user'],
    ['Account2Fa', 'account2_fa'],
    ['URL', 'url'],
    ['user', 'user'],
    ['already_underscored', 'already_underscored'],
    ['Some-Thing', 'some_thing'],
  ];
  for (const [input, expected] of cases) {
    test(`${input} → ${expected}`, () => {
      assert.equal(modelSingular(input), expected);
    });
  }
});

describe('eventName', () => {
  test('from the brief', () => {
    assert.equal(eventName('User', 'updated'), 'user_updated');
    assert.equal(eventName('BookingsFee', 'updated'), 'bookings_fee_updated');
    assert.equal(eventName('Admin::User', 'updated'), 'admin_user_updated');
    assert.equal(eventName('HTTPRequest', 'updated'), 'http_request_updated');
    assert.equal(eventName('RentalsTax', 'updated'), 'rentals_tax_updated');
  });

  test('every action', () => {
    assert.equal(eventName('Booking', 'created'), 'booking_created');
    assert.equal(eventName('Booking', 'updated'), 'booking_updated');
    assert.equal(eventName('Booking', 'destroyed'), 'booking_destroyed');
  });
});
