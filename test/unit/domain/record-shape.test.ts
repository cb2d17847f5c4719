import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { codecFor } from '../../../src/domain/column-types/type-mapping';
import type { ColumnCodec, PgTypeInfo } from '../../../src/domain/column-types/codec';
import { encodeEnvelope } from '../../../src/domain/message-builder';
import { EncodingError } from '../../../src/domain/rails-json';
import { RecordShape, recordAttribute, recordPartitionKey, type ShapeColumn } from '../../../src/domain/record-shape';

// The record the gem's model serializer builds: attributes in declaration (column) order, then
// `links`, then sideloads, each value written by its column type's codec.

const type = (name: string, typmod = -1): PgTypeInfo => ({ oid: 0, name, kind: 'b', typmod });
const codec = (name: string): ColumnCodec => {
  const choice = codecFor(type(name));
  if (!('codec' in choice)) throw new Error(choice.refused);
  return choice.codec;
};
const col = (name: string, typeName: string, sent = true): ShapeColumn => ({ name, codec: codec(typeName), sent });

const users = new RecordShape([
  col('id', 'int8'),
  col('account_id', 'int8', false),
  col('name', 'text'),
  col('prefs', 'jsonb'),
  col('balance', 'numeric'),
  col('updated_at', 'timestamp'),
]);

describe('ShapedRecord', () => {
  test('attributes in column order (json in place), hidden columns left out, then links and sideloads', () => {
    const record = users.record(['1', '7', 'Ada <3', '{"b": 1.0, "a": [12345678901234567890]}', '6.50', '2024-01-02 10:00:00.123456']);
    const fee = new RecordShape([col('id', 'int8'), col('amount', 'numeric')]).record(['11', '6.50']);
    fee.links = [['booking', '1']];
    record.links = [['account', '7'], ['fees', '[11]']];
    record.sideloads = [['fees', [fee]], ['account', null]];
    assert.equal(
      encodeEnvelope('user_updated', 'User', record).toString(),
      '{"message":[{"event":"user_updated","model_name":"User","data":[{"id":1,"name":"Ada \\u003c3","prefs":{"b":1.0,"a":[12345678901234567890]},' +
        '"balance":"6.5","updated_at":"2024-01-02T10:00:00.123Z","links":{"account":7,"fees":[11]},' +
        '"fees":[{"id":11,"amount":"6.5","links":{"booking":1}}],"account":null}]}]}',
    );
  });

  test('NULL columns are null; a record without relationships has links {}', () => {
    const record = users.record(['2', null, 'x', null, null, null]);
    assert.equal(record.json(), '{"id":2,"name":"x","prefs":null,"balance":null,"updated_at":null,"links":{}}');
  });

  test('an encoding error names the sideload and the column', () => {
    const bad = new RecordShape([col('id', 'int8'), col('blob', 'bytea')]).record(['3', '\\xff']);
    const record = users.record(['2', null, 'x', null, null, null]);
    record.sideloads = [['files', [bad]]];
    assert.throws(() => record.json(), (err: unknown) => err instanceof EncodingError && err.path === 'files[0].blob');
  });

  test('recordAttribute reads what the message writes; recordPartitionKey casts like Ruby to_i', () => {
    const record = users.record(['5', '42', 'x', null, '-12.7', '2024-01-02 10:00:00']);
    assert.equal(recordAttribute(record, 'updated_at'), '2024-01-02T10:00:00.000Z');
    assert.equal(recordAttribute(record, 'prefs'), null);
    assert.equal(recordAttribute(record, 'nothing'), undefined);
    assert.equal(recordPartitionKey(record, 'account_id'), '42', 'a hidden column still gives the partition key');
    assert.equal(recordPartitionKey(record, 'balance'), '-12');
    assert.equal(recordPartitionKey(record, 'updated_at'), '1704189600');
    assert.equal(recordPartitionKey(record, 'prefs'), '0', 'nil.to_i');
    assert.equal(recordPartitionKey(record, 'missing'), null);
    assert.throws(() => recordPartitionKey(users.record(['5', null, 'x', '{}', null, null]), 'prefs'), /no to_i/);
  });
});
