import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeEnvelope } from '../../../src/domain/message-builder';
import { EncodingError, encodeRailsJson } from '../../../src/domain/rails-json';
import { RecordShape, buildRecord, type RecordField } from '../../../src/domain/record-shape';
import { RawJson } from '../../../src/domain/ruby-numbers';

// The compiled writer must give exactly the bytes of the generic path it replaces: the envelope
// object (with a record object from buildRecord) through encodeRailsJson, whose own tests pin
// the Rails rules. Each case below runs both and compares bytes, or error messages.

const attr = (name: string): RecordField => ({ name, json: false });
const json = (name: string): RecordField => ({ name, json: true });

function generic(fields: readonly RecordField[], values: readonly unknown[]): string {
  return encodeRailsJson({ message: [{ event: 'user_updated', model_name: 'User', data: [buildRecord(fields, values)] }] });
}

function compiled(fields: readonly RecordField[], values: readonly unknown[]): string {
  return encodeEnvelope('user_updated', 'User', new RecordShape(fields).record(values)).toString('utf8');
}

function outcome(run: () => string): string {
  try {
    return run();
  } catch (err) {
    assert.ok(err instanceof EncodingError, `unexpected error ${String(err)}`);
    return `EncodingError: ${err.message}`;
  }
}

function assertSame(fields: readonly RecordField[], values: readonly unknown[]): void {
  assert.equal(outcome(() => compiled(fields, values)), outcome(() => generic(fields, values)));
}

const STRINGS = [
  '',
  'plain',
  'quote " backslash \\ slash /',
  'controls \u0000 \u0001 \n \r \t \u001f \u007f',
  'html <b>&amp;</b>',
  'separators \u2028 \u2029',
  'non-ASCII żółć 日本 ü',
  'pair \ud83d\ude00',
  'lone high \ud83d end',
  'lone low \ude00 end',
];

describe('RecordShape: same bytes as encodeRailsJson(buildRecord(...))', () => {
  test('every scalar kind the type parsers produce', () => {
    const scalars: unknown[] = [
      ...STRINGS,
      0n,
      -9223372036854775808n,
      9223372036854775807n,
      0,
      -0,
      42,
      -7.25,
      1e21,
      5e-324,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      true,
      false,
      null,
      undefined,
      new RawJson('12.5'),
      new RawJson('1.0e+20'),
    ];
    for (const value of scalars) assertSame([attr('id'), attr('value')], [1n, value]);
  });

  test('json values, arrays and dates go through the generic encoder unchanged', () => {
    const values: unknown[] = [
      { account: 3 },
      { nested: { list: [1, 'two', null, { deep: '<x>' }] } },
      [],
      ['a', 'b<'],
      [new RawJson('1.5'), null],
      new Date(Date.UTC(2024, 0, 1, 10, 0, 0, 123)),
      new Date(Number.NaN),
      { k: undefined },
    ];
    for (const value of values) {
      assertSame([attr('id'), json('sideload')], [1n, value]);
      assertSame([attr('id'), attr('tags')], [1n, value]);
    }
  });

  test('key order: attributes, then links, then sideloads, whatever the column order', () => {
    const fields = [json('fees'), attr('id'), json('links'), attr('name'), json('tax')];
    const values = [[{ id: 1 }], 5n, { account: 3 }, 'x', null];
    assertSame(fields, values);
    assert.equal(
      compiled(fields, values),
      '{"message":[{"event":"user_updated","model_name":"User","data":[{"id":5,"name":"x","links":{"account":3},"fees":[{"id":1}],"tax":null}]}]}',
    );
  });

  test('links absent, NULL, or an ordinary column named links', () => {
    assertSame([attr('id')], [1n]);
    assertSame([attr('id'), json('links')], [1n, null]);
    assertSame([attr('id'), json('links')], [1n, undefined]);
    assertSame([attr('links'), attr('id')], [{ a: 1 }, 2n]);
    assertSame([], []);
  });

  test('column names that need escaping', () => {
    for (const name of STRINGS.filter((s) => s !== '')) assertSame([attr('id'), attr(name)], [1n, 'v']);
  });

  test('names a record object cannot keep in order fall back to the object path', () => {
    assertSame([attr('b'), attr('1'), attr('a'), attr('0')], ['b', 'one', 'a', 'zero']);
    assertSame([attr('id'), attr('__proto__')], [1n, 'p']);
    assertSame([attr('id'), attr('name'), attr('name')], [1n, 'first', 'second']);
    assertSame([attr('id'), attr('fees'), json('fees')], [1n, 'attribute', ['sideload']]);
    assertSame([attr('id'), json('links'), json('links')], [1n, { a: 1 }, null]);
  });

  test('errors name the same path and nesting limit', () => {
    assertSame([attr('id'), attr('avatar')], [1n, Buffer.from('png')]);
    assertSame([attr('id'), json('meta')], [1n, { list: [new Map()] }]);
    assertSame([attr('id'), attr('fn')], [1n, () => 1]);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    assertSame([attr('id'), json('meta')], [1n, cyclic]);
    // The generic encoder allows 64 open containers: 5 of them are the envelope and the record.
    for (const depth of [58, 59, 60, 61]) {
      let nested: unknown = 'leaf';
      for (let i = 0; i < depth; i++) nested = [nested];
      assertSame([attr('id'), json('deep')], [1n, nested]);
      assertSame([attr('__proto__'), json('deep')], [1n, nested]);
    }
  });

  test('random records (seeded)', () => {
    let seed = 20261126;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
    const kinds: Array<() => unknown> = [
      () => pick(STRINGS) + String(Math.floor(next() * 1000)),
      () => BigInt(Math.floor(next() * 1e15)),
      () => Math.floor(next() * 1e6) / 100,
      () => null,
      () => next() < 0.5,
      () => new RawJson(String(Math.floor(next() * 100))),
      () => ({ id: Math.floor(next() * 10), name: pick(STRINGS) }),
    ];
    for (let n = 0; n < 300; n++) {
      const count = 1 + Math.floor(next() * 12);
      const fields: RecordField[] = [];
      const values: unknown[] = [];
      for (let i = 0; i < count; i++) {
        const name = next() < 0.1 ? 'links' : `c${Math.floor(next() * 20)}`;
        fields.push({ name, json: next() < 0.3 });
        values.push(pick(kinds)());
      }
      assertSame(fields, values);
    }
  });
});

describe('ShapedRecord attributes', () => {
  const shape = new RecordShape([attr('id'), attr('account_id'), json('links'), json('fees')]);

  test('get and has read a record like the object buildRecord makes', () => {
    const record = shape.record([5n, null, null, []]);
    assert.equal(record.get('id'), 5n);
    assert.equal(record.get('account_id'), null);
    assert.deepEqual(record.get('links'), {});
    assert.equal(record.get('missing'), undefined);
    assert.equal(record.has('account_id'), true);
    assert.equal(record.has('links'), true);
    assert.equal(record.has('missing'), false);
    assert.deepEqual(record.toObject(), buildRecord(shape.fields, [5n, null, null, []]));
  });

  test('repeated names: the object path decides which value wins', () => {
    const fields = [attr('id'), attr('name'), attr('name')];
    const record = new RecordShape(fields).record([1n, 'first', 'second']);
    assert.equal(record.get('name'), buildRecord(fields, [1n, 'first', 'second'])['name']);
  });
});
