import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTopicsYaml } from '../../../src/config/topics-file';
import { RelayError } from '../../../src/errors';

function problems(yaml: string): string[] {
  try {
    parseTopicsYaml(yaml, 'topics.yaml');
  } catch (err) {
    assert.ok(err instanceof RelayError);
    return err.message.split('\n');
  }
  assert.fail('expected the YAML to be rejected');
}

const BOOKINGS = `namespace: v3
topics:
  bookings:
    models:
      Booking:
        sql: SELECT id, account_id, rental_id FROM bookings WHERE id = ANY($1::bigint[])
        hidden_columns: [rental_id]
        relationships:
          account: { has_one: Account }
          rental: { has_one: Rental, column: rental_id }
          subject: { polymorphic: true }
          bookings_fees:
            has_many: BookingsFee
            sql: SELECT booking_id AS owner_id, id FROM bookings_fees WHERE booking_id = ANY($1::bigint[]) ORDER BY id
            sideload: true
serializers:
  BookingsFee:
    sql: SELECT id, amount FROM bookings_fees WHERE id = ANY($1::bigint[])
`;

describe('relationships in the topics YAML', () => {
  test('declared in order, with the gem defaults: <name>_id, <name>_type for polymorphic', () => {
    const config = parseTopicsYaml(BOOKINGS, 'topics.yaml');
    const booking = config.topics[0]?.models.get('Booking');
    assert.deepEqual(booking?.hiddenColumns, ['rental_id']);
    assert.deepEqual(
      booking?.relationships.map((r) => [r.name, r.kind, r.model, r.polymorphic, r.sideload, r.source]),
      [
        ['account', 'has_one', 'Account', false, false, { kind: 'column', column: 'account_id', typeColumn: undefined }],
        ['rental', 'has_one', 'Rental', false, false, { kind: 'column', column: 'rental_id', typeColumn: undefined }],
        ['subject', 'has_one', undefined, true, false, { kind: 'column', column: 'subject_id', typeColumn: 'subject_type' }],
        ['bookings_fees', 'has_many', 'BookingsFee', false, true, { kind: 'sql', sql: 'SELECT booking_id AS owner_id, id FROM bookings_fees WHERE booking_id = ANY($1::bigint[]) ORDER BY id' }],
      ],
    );
    assert.deepEqual([...config.serializers.keys()], ['BookingsFee']);
  });

  test('a sideload needs a serializer for the related model', () => {
    const found = problems(BOOKINGS.replace(/serializers:[\s\S]*$/, ''));
    assert.ok(found.some((p) => p.includes('relationships.bookings_fees.sideload: BookingsFee has no serializer')), found.join('\n'));
  });

  test('malformed relationships are named by key path', () => {
    const found = problems(`topics:
  t:
    models:
      A:
        sql: SELECT id FROM a WHERE id = ANY($1::bigint[])
        relationships:
          links: { has_one: B }
          both: { has_one: B, has_many: C }
          many: { has_many: C }
          typed: { has_one: B, type_column: b_type }
          twice: { has_one: B, column: b_id, sql: SELECT 1 AS owner_id, 1 AS id WHERE $1 IS NOT NULL }
`);
    const expect = ['relationships.links: a relationship is named', 'relationships.both: needs exactly one of', 'relationships.many: a has_many needs', 'relationships.typed.type_column: only a polymorphic', 'relationships.twice: takes its link from'];
    for (const e of expect) assert.ok(found.some((p) => p.includes(e)), `${e}\n${found.join('\n')}`);
  });

  test('a serializer used only for sideloads cannot sideload', () => {
    const found = problems(`topics:
  t:
    models:
      A:
        sql: SELECT id FROM a WHERE id = ANY($1::bigint[])
serializers:
  B:
    sql: SELECT id FROM b WHERE id = ANY($1::bigint[])
    relationships:
      c: { has_one: C, sideload: true }
`);
    assert.ok(found.some((p) => p.includes('serializers.B.relationships.c.sideload: a serializer used only for sideloads cannot sideload')), found.join('\n'));
  });
});
