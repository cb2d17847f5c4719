import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJson, type JsonObject } from '../../../src/sink/json-value';
import { incomingTime, readRecord, RecordShapeError } from '../../../src/sink/record-reader';

const record = (text: string): JsonObject => parseJson(text) as JsonObject;
const plain = (o: JsonObject): unknown => JSON.parse(JSON.stringify(o));

test('id, timestamps and links become synced_* attributes; other keys stay as they are', () => {
  const read = readRecord(
    record(`{"id":1,"name":"Dionysus","created_at":"2024-01-01T10:00:00.000Z","updated_at":"2024-01-02T10:00:00.000Z",
             "links":{"account":7,"bookings":[1,2],"owner":{"id":3,"type":"Admin::User"},"nothing":null},"score":"12.5"}`),
  );
  assert.deepEqual(plain(read.attributes), {
    synced_account_id: 7,
    synced_booking_ids: [1, 2],
    synced_owner_id: 3,
    synced_owner_type: 'Admin::User',
    synced_nothing_id: null,
    synced_id: 1,
    synced_created_at: '2024-01-01T10:00:00.000Z',
    synced_updated_at: '2024-01-02T10:00:00.000Z',
    name: 'Dionysus',
    score: '12.5',
  });
  assert.deepEqual(Object.keys(read.attributes).slice(0, 5), ['synced_account_id', 'synced_booking_ids', 'synced_owner_id', 'synced_owner_type', 'synced_nothing_id']);
  assert.equal(incomingTime(read.attributes), '2024-01-02T10:00:00.000Z');
});

test('a hard-delete payload gives only synced_id; a missing id gives synced_id null', () => {
  assert.deepEqual(plain(readRecord(record('{"links":{},"id":1}')).attributes), { synced_id: 1 });
  assert.deepEqual(plain(readRecord(record('{"name":"x"}')).attributes), { synced_id: null, name: 'x' });
  assert.equal(incomingTime(readRecord(record('{"id":1,"created_at":"2024-01-01T00:00:00.000Z"}')).attributes), '2024-01-01T00:00:00.000Z');
  assert.equal(incomingTime(readRecord(record('{"id":1,"updated_at":null}')).attributes), null);
});

test('sideloads: to-many lists and to-one records are read recursively; absent keys leave the relationship alone', () => {
  const read = readRecord(
    record(`{"id":1,"links":{"bookings":[10,11],"account":7,"owner":{"id":3,"type":"User"},"fees":[]},
             "bookings":[{"id":10,"links":{"rental":1}},{"id":11,"links":{}}],"account":{"id":7,"name":"acme","links":{}},
             "owner":[{"id":3,"links":{}}]}`),
  );
  assert.deepEqual(
    read.toMany.map((s) => [s.name, s.records?.map((r) => r.attributes['synced_id']) ?? null]),
    [
      ['bookings', [10, 11]],
      ['fees', null],
    ],
  );
  assert.equal(read.toMany[0]?.records?.[0]?.attributes['synced_rental_id'], 1);
  assert.deepEqual(
    read.toOne.map((s) => [s.name, s.modelName, s.record?.attributes['synced_id']]),
    [
      ['account', 'account', 7],
      ['owner', 'User', 3],
    ],
  );
  // Sideload keys are relationships, not attributes.
  assert.equal('bookings' in read.attributes, false);
  assert.equal('account' in read.attributes, false);
});

test('records whose links or sideloads have the wrong shape are refused', () => {
  assert.throws(() => readRecord(record('{"id":1,"links":[1]}')), RecordShapeError);
  assert.throws(() => readRecord(record('{"id":1,"links":{"bookings":[1]},"bookings":{"id":1}}')), /not a list/);
  assert.throws(() => readRecord(record('{"id":1,"links":{"bookings":[1]},"bookings":[5]}')), /not an object/);
});

test('an attribute named __proto__ is an ordinary own key of the attribute hash, not its prototype', () => {
  for (const text of ['{"id":1,"__proto__":{"polluted":true},"name":"a"}', '{"id":1.0,"__proto__":{"polluted":true},"name":"a"}']) {
    const { attributes } = readRecord(parseJson(text) as JsonObject);
    assert.equal(Object.getPrototypeOf(attributes), Object.prototype);
    assert.ok(Object.hasOwn(attributes, '__proto__'));
    assert.deepEqual(Object.keys(attributes), ['synced_id', '__proto__', 'name']);
    assert.equal((attributes as Record<string, unknown>)['polluted'], undefined);
    assert.equal(JSON.stringify(attributes['__proto__']), '{"polluted":true}');
  }
});
