import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PgTypeInfo } from '../../../src/domain/column-types/codec';
import { codecFor } from '../../../src/domain/column-types/type-mapping';
import { checkSerializerColumns, type ResultColumn, type SerializerDeclaration } from '../../../src/domain/serializer-columns';

const column = (name: string, type: string, info?: Partial<PgTypeInfo>): ResultColumn => ({
  name,
  typeName: type,
  choice: codecFor({ oid: 0, name: type, kind: 'b', typmod: -1, ...info }),
});

const booking: SerializerDeclaration = {
  model: 'Booking',
  path: 'topics.bookings.models.Booking',
  relationships: [],
  hiddenColumns: [],
  jsonAttributes: [],
  partitionKey: 'account_id',
  dependencies: ['BookingsFee'],
};

describe('checkSerializerColumns', () => {
  test('a json column named like a dependency (the old sideload) stops the start and says what to write', () => {
    const check = checkSerializerColumns(booking, [column('id', 'int8'), column('account_id', 'int8'), column('bookings_fees', 'json')]);
    assert.equal(check.shape, undefined);
    assert.match(check.problems.join('\n'), /column bookings_fees \(json\) is named like the dependency BookingsFee.*has_many: BookingsFee.*sideload: true.*json_attributes: \[bookings_fees\]/);
    const confirmed = checkSerializerColumns({ ...booking, jsonAttributes: ['bookings_fees'] }, [column('id', 'int8'), column('account_id', 'int8'), column('bookings_fees', 'json')]);
    assert.deepEqual(confirmed.problems, []);
  });

  test('a links column stops the start, naming relationships:', () => {
    const check = checkSerializerColumns(booking, [column('id', 'int8'), column('account_id', 'int8'), column('links', 'json')]);
    assert.match(check.problems.join('\n'), /returns a column `links`.*relationships:/);
  });

  test('a type the relay cannot encode faithfully is named with its column', () => {
    const timetzArray: Partial<PgTypeInfo> = { kind: 'array', element: { oid: 0, name: 'timetz', kind: 'b', typmod: -1 } };
    const check = checkSerializerColumns(booking, [column('id', 'int8'), column('account_id', 'int8'), column('slots', '_timetz', timetzArray)]);
    assert.match(check.problems.join('\n'), /topics\.bookings\.models\.Booking: column slots \(_timetz\) cannot be sent as Rails would send it: an array of timetz/);
  });

  test('partition attribute: a warning when the serializer does not return it; refused when Ruby has no to_i for it; hidden columns count', () => {
    assert.match(checkSerializerColumns(booking, [column('id', 'int8')]).warnings.join('\n'), /partition attribute account_id is not among the serializer's columns/);
    assert.match(checkSerializerColumns(booking, [column('id', 'int8'), column('account_id', 'date')]).problems.join('\n'), /account_id is a date, which has no to_i in Ruby/);
    const hidden = checkSerializerColumns({ ...booking, hiddenColumns: ['account_id'] }, [column('id', 'int8'), column('account_id', 'int8')]);
    assert.deepEqual([hidden.problems, hidden.warnings], [[], []]);
    assert.equal(hidden.shape?.record(['1', '7']).json(), '{"id":1,"links":{}}');
  });

  test('missing id, link and hidden columns are named', () => {
    const check = checkSerializerColumns(
      { ...booking, hiddenColumns: ['ghost'], relationships: [{ name: 'rental', kind: 'has_one', model: 'Rental', polymorphic: false, source: { kind: 'column', column: 'rental_id', typeColumn: undefined }, sideload: false, path: 'p.relationships.rental' }] },
      [column('account_id', 'int8')],
    );
    const text = check.problems.join('\n');
    for (const e of ['hidden_columns names ghost', 'returns no `id` column', 'p.relationships.rental: the serializer returns no column rental_id']) assert.ok(text.includes(e), `${e}\n${text}`);
  });
});
