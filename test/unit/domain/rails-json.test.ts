import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  EncodingError,
  encodeRailsJson,
} from '../../../src/domain/rails-json';

// Expected strings are written by hand from the Rails/ActiveSupport rules (compat doc §2).
// In the literals below, '\\u003c' is the six characters \u003c as they appear on the wire.

describe('encodeRailsJson: strings', () => {
  test('plain ASCII', () => {
    assert.equal(encodeRailsJson('Alice'), '"Alice"');
    assert.equal(encodeRailsJson(''), '""');
  });

  test('< > & are escaped as lowercase \\u00XX', () => {
    assert.equal(encodeRailsJson('<'), '"\\u003c"');
    assert.equal(encodeRailsJson('>'), '"\\u003e"');
    assert.equal(encodeRailsJson('&'), '"\\u0026"');
    assert.equal(
      encodeRailsJson('<script>alert("x") && 1</script>'),
      '"\\u003cscript\\u003ealert(\\"x\\") \\u0026\\u0026 1\\u003c/script\\u003e"',
    );
  });

  test('U+2028 and U+2029 are escaped', () => {
    assert.equal(encodeRailsJson('a\u2028b\u2029c'), '"a\\u2028b\\u2029c"');
  });

  test('slash is not escaped', () => {
    assert.equal(encodeRailsJson('a/b'), '"a/b"');
  });

  test('quote and backslash', () => {
    assert.equal(encodeRailsJson('say "hi" \\ bye'), '"say \\"hi\\" \\\\ bye"');
  });

  test('control characters: short escapes and lowercase \\u00XX', () => {
    assert.equal(encodeRailsJson('\n\r\t\b\f'), '"\\n\\r\\t\\b\\f"');
    assert.equal(encodeRailsJson('\u0000\u0001\u001f'), '"\\u0000\\u0001\\u001f"');
    assert.equal(encodeRailsJson('\u001b'), '"\\u001b"');
  });

  test('DEL and other non-ASCII stay literal UTF-8', () => {
    assert.equal(encodeRailsJson('\u007f'), '"\u007f"');
    assert.equal(encodeRailsJson('café'), '"café"');
    assert.equal(encodeRailsJson('日本'), '"日本"');
    assert.equal(encodeRailsJson('😀'), '"😀"');
    assert.equal(encodeRailsJson('\u00a0\u2027\u202a'), '"\u00a0\u2027\u202a"');
  });

  test('lone surrogates are escaped as \\udXXX', () => {
    assert.equal(encodeRailsJson('\ud800'), '"\\ud800"');
    assert.equal(encodeRailsJson('x\udc00y'), '"x\\udc00y"');
    // a valid pair stays literal
    assert.equal(encodeRailsJson('\ud83d\ude00'), '"😀"');
  });

  test('mixed escapes in one string', () => {
    assert.equal(encodeRailsJson('é<"\n&\u2028'), '"é\\u003c\\"\\n\\u0026\\u2028"');
  });

  test('every single UTF-16 code unit is escaped per the Rails rules', () => {
    // Oracle written from the rules, not from the implementation.
    const short: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r', 34: '\\"', 92: '\\\\' };
    const hex4 = (c: number): string => '\\u' + c.toString(16).padStart(4, '0');
    for (let c = 0; c <= 0xffff; c++) {
      let body: string;
      const named = short[c];
      if (named !== undefined) body = named;
      else if (c < 0x20) body = hex4(c);
      else if (c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) body = hex4(c);
      else if (c >= 0xd800 && c <= 0xdfff) body = hex4(c); // lone surrogate
      else body = String.fromCharCode(c);
      const input = String.fromCharCode(c);
      assert.equal(encodeRailsJson(input), `"${body}"`, `U+${c.toString(16)}`);
      // and in the middle of ordinary text
      assert.equal(encodeRailsJson(`ab${input}cd`), `"ab${body}cd"`, `U+${c.toString(16)} in text`);
    }
  });

  test('keys are escaped like values', () => {
    assert.equal(encodeRailsJson({ 'a<b': 1, 'q"': 2, 'é': 3 }), '{"a\\u003cb":1,"q\\"":2,"é":3}');
  });
});

describe('encodeRailsJson: scalars', () => {
  test('null, booleans', () => {
    assert.equal(encodeRailsJson(null), 'null');
    assert.equal(encodeRailsJson(true), 'true');
    assert.equal(encodeRailsJson(false), 'false');
  });

  test('undefined → null at the root', () => {
    assert.equal(encodeRailsJson(undefined), 'null');
  });

  test('finite numbers print as JSON.stringify does', () => {
    assert.equal(encodeRailsJson(0), '0');
    assert.equal(encodeRailsJson(-0), '0');
    assert.equal(encodeRailsJson(42), '42');
    assert.equal(encodeRailsJson(-17), '-17');
    assert.equal(encodeRailsJson(1.5), '1.5');
    assert.equal(encodeRailsJson(0.1), '0.1');
    assert.equal(encodeRailsJson(1e21), '1e+21');
    assert.equal(encodeRailsJson(1.5e-7), '1.5e-7');
    assert.equal(encodeRailsJson(Number.MAX_SAFE_INTEGER), '9007199254740991');
  });

  test('non-finite numbers → null', () => {
    assert.equal(encodeRailsJson(Number.NaN), 'null');
    assert.equal(encodeRailsJson(Number.POSITIVE_INFINITY), 'null');
    assert.equal(encodeRailsJson(Number.NEGATIVE_INFINITY), 'null');
    assert.equal(encodeRailsJson({ a: Number.NaN }), '{"a":null}');
  });

  test('bigint → plain digits, exact beyond 2^53', () => {
    assert.equal(encodeRailsJson(9007199254740993n), '9007199254740993');
    assert.equal(encodeRailsJson(9223372036854775807n), '9223372036854775807');
    assert.equal(encodeRailsJson(-42n), '-42');
    assert.equal(encodeRailsJson({ id: 12345678901234567890n }), '{"id":12345678901234567890}');
  });

  test('Date → UTC with exactly 3 fractional digits and Z', () => {
    assert.equal(encodeRailsJson(new Date(Date.UTC(2024, 0, 1, 10, 0, 0, 0))), '"2024-01-01T10:00:00.000Z"');
    assert.equal(encodeRailsJson(new Date(Date.UTC(2024, 1, 29, 23, 59, 59, 7))), '"2024-02-29T23:59:59.007Z"');
    assert.equal(encodeRailsJson(new Date(0)), '"1970-01-01T00:00:00.000Z"');
  });

  test('invalid Date → null', () => {
    assert.equal(encodeRailsJson(new Date('not a date')), 'null');
  });
});

describe('encodeRailsJson: containers', () => {
  test('the compat doc example message, byte for byte', () => {
    const message = {
      message: [
        {
          event: 'user_updated',
          model_name: 'User',
          data: [
            {
              id: 1,
              name: 'Alice',
              created_at: new Date(Date.UTC(2024, 0, 1, 10)),
              updated_at: '2024-01-02T10:00:00.000Z',
              links: {},
            },
          ],
        },
      ],
    };
    assert.equal(
      encodeRailsJson(message),
      '{"message":[{"event":"user_updated","model_name":"User","data":[{"id":1,"name":"Alice",' +
        '"created_at":"2024-01-01T10:00:00.000Z","updated_at":"2024-01-02T10:00:00.000Z","links":{}}]}]}',
    );
  });

  test('empty containers', () => {
    assert.equal(encodeRailsJson({}), '{}');
    assert.equal(encodeRailsJson([]), '[]');
    assert.equal(encodeRailsJson([[], {}]), '[[],{}]');
  });

  test('keys keep insertion order (not sorted)', () => {
    assert.equal(encodeRailsJson({ b: 1, a: 2, c: 3 }), '{"b":1,"a":2,"c":3}');
  });

  test('nested objects and arrays', () => {
    const value = {
      id: 7,
      links: { account: 3, bookings: [1, 2, 3] },
      account: { id: 3, name: 'Acme & Co', tags: ['a', null, true] },
      fees: [{ id: 1, amount: '12.5' }, { id: 2, amount: '0.0' }],
    };
    assert.equal(
      encodeRailsJson(value),
      '{"id":7,"links":{"account":3,"bookings":[1,2,3]},' +
        '"account":{"id":3,"name":"Acme \\u0026 Co","tags":["a",null,true]},' +
        '"fees":[{"id":1,"amount":"12.5"},{"id":2,"amount":"0.0"}]}',
    );
  });

  test('undefined properties are written as null, not dropped', () => {
    assert.equal(encodeRailsJson({ a: undefined, b: 1 }), '{"a":null,"b":1}');
  });

  test('undefined elements and holes in arrays → null', () => {
    assert.equal(encodeRailsJson([1, undefined, 3]), '[1,null,3]');
    const sparse: unknown[] = [];
    sparse[2] = 'x';
    assert.equal(encodeRailsJson(sparse), '[null,null,"x"]');
  });

  test('toJSON is not special: own enumerable keys are used', () => {
    class WithToJson {
      a = 1;
      toJSON(): string {
        return 'replaced';
      }
    }
    assert.equal(encodeRailsJson(new WithToJson()), '{"a":1}');
  });

  test('null-prototype objects are fine', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o['x'] = 1;
    assert.equal(encodeRailsJson(o), '{"x":1}');
  });

  test('symbol keys and non-enumerable properties are skipped', () => {
    const o: Record<string | symbol, unknown> = { a: 1 };
    o[Symbol('s')] = 2;
    Object.defineProperty(o, 'hidden', { value: 3, enumerable: false });
    assert.equal(encodeRailsJson(o), '{"a":1}');
  });

  test('a shared (non-circular) reference is encoded twice', () => {
    const shared = { id: 1 };
    assert.equal(encodeRailsJson({ a: shared, b: [shared] }), '{"a":{"id":1},"b":[{"id":1}]}');
  });

  test('64 levels of nesting are allowed', () => {
    let v: unknown = 1;
    for (let i = 0; i < 64; i++) v = [v];
    assert.equal(encodeRailsJson(v), '['.repeat(64) + '1' + ']'.repeat(64));
  });
});

describe('encodeRailsJson: errors', () => {
  function expectEncodingError(value: unknown, path: string): void {
    assert.throws(
      () => encodeRailsJson(value),
      (err: unknown) => {
        assert.ok(err instanceof EncodingError, `expected EncodingError, got ${String(err)}`);
        assert.ok(err instanceof Error);
        assert.equal(err.name, 'EncodingError');
        assert.equal(err.path, path);
        return true;
      },
    );
  }

  test('Buffer (bytea) throws with the key path', () => {
    expectEncodingError({ data: [{ id: 1, avatar: Buffer.from('png') }] }, 'data[0].avatar');
  });

  test('Uint8Array and other binary types throw', () => {
    expectEncodingError(new Uint8Array([1, 2]), '');
    expectEncodingError({ a: new Float64Array(1) }, 'a');
    expectEncodingError({ a: new ArrayBuffer(4) }, 'a');
    expectEncodingError({ a: new DataView(new ArrayBuffer(4)) }, 'a');
  });

  test('functions and symbols throw', () => {
    expectEncodingError({ a: { b: () => 1 } }, 'a.b');
    expectEncodingError([1, Symbol('x')], '[1]');
    expectEncodingError(() => 1, '');
  });

  test('an own toJSON function is just a function value and throws', () => {
    expectEncodingError({ toJSON: () => 'x' }, 'toJSON');
  });

  test('Map and Set throw instead of silently becoming {}', () => {
    expectEncodingError({ m: new Map([[1, 2]]) }, 'm');
    expectEncodingError({ s: new Set([1]) }, 's');
  });

  test('keys that are not identifiers are quoted in the path', () => {
    expectEncodingError({ 'my key': [Buffer.alloc(1)] }, '["my key"][0]');
  });

  test('circular structures throw', () => {
    const a: Record<string, unknown> = { id: 1 };
    a['self'] = a;
    expectEncodingError(a, 'self');
    const arr: unknown[] = [];
    arr.push({ back: arr });
    expectEncodingError(arr, '[0].back');
  });

  test('nesting deeper than 64 levels throws', () => {
    let v: unknown = 1;
    for (let i = 0; i < 65; i++) v = [v];
    assert.throws(() => encodeRailsJson(v), EncodingError);
  });

  test('message mentions the path', () => {
    assert.throws(() => encodeRailsJson({ x: Buffer.alloc(0) }), /at x/);
  });
});
