import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventKind, readEnvelope } from '../../../src/sink/envelope';

const value = (text: string): Buffer => Buffer.from(text, 'utf8');

test('tombstones: a real null, the string null, an empty value, a payload without message', () => {
  for (const v of [null, value('null'), Buffer.alloc(0), value('{}'), value('{"message":null}')]) {
    assert.equal(readEnvelope(v).kind, 'tombstone', String(v));
  }
});

test('the gem envelope reads into events; data may be one record or a list', () => {
  const reading = readEnvelope(
    value('{"message":[{"event":"user_updated","model_name":"User","data":[{"id":1}]},{"event":"user_destroyed","model_name":"User","data":{"id":2}},{"event":"ping","data":null}]}'),
  );
  assert.equal(reading.kind, 'events');
  if (reading.kind !== 'events') return;
  assert.deepEqual(
    reading.events.map((e) => [e.eventName, e.modelName, e.records.map((r) => r['id'])]),
    [
      ['user_updated', 'User', [1]],
      ['user_destroyed', 'User', [2]],
      ['ping', '', []],
    ],
  );
});

test('values that cannot be read are invalid, with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['not json', /not JSON/],
    ['[1,2]', /not a JSON object/],
    ['{"message":"x"}', /"message" is not an array/],
    ['{"message":[1]}', /message\[0\] is not an object/],
    ['{"message":[{"model_name":"User","data":[]}]}', /event is not a non-empty string/],
    ['{"message":[{"event":"user_created","model_name":5,"data":[]}]}', /model_name is not a string/],
    ['{"message":[{"event":"user_created","model_name":"User","data":[1]}]}', /data\[0\] is not an object/],
  ];
  for (const [text, reason] of cases) {
    const reading = readEnvelope(value(text));
    assert.equal(reading.kind, 'invalid', text);
    if (reading.kind === 'invalid') assert.match(reading.reason, reason);
  }
});

test('event kinds follow the name ending, as DionysusEvent#created? and friends', () => {
  assert.equal(eventKind('user_created'), 'created');
  assert.equal(eventKind('user_recreated'), 'created');
  assert.equal(eventKind('bookings_fee_updated'), 'updated');
  assert.equal(eventKind('user_destroyed'), 'destroyed');
  assert.equal(eventKind('user_logged_in'), 'other');
});
