import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJsonObject, JsonNumber, JsonSyntaxError, parseJson, readJson, scalarText, writeJson } from '../../../src/sink/json-value';

test('integers beyond 2^53 and Ruby floats keep their text; ordinary numbers are numbers', () => {
  const value = parseJson('{"id":9007199254740993,"f":1.0,"e":1.0e+20,"n":42,"x":-0.5,"z":-0}');
  assert.ok(isJsonObject(value));
  assert.deepEqual(value['id'], new JsonNumber('9007199254740993'));
  assert.deepEqual(value['f'], new JsonNumber('1.0'));
  assert.deepEqual(value['e'], new JsonNumber('1.0e+20'));
  assert.equal(value['n'], 42);
  assert.equal(value['x'], -0.5);
  assert.deepEqual(value['z'], new JsonNumber('-0'));
  assert.equal(writeJson(value), '{"id":9007199254740993,"f":1.0,"e":1.0e+20,"n":42,"x":-0.5,"z":-0}');
});

test('strings with escapes, unicode and the Rails escapes read back as the same text', () => {
  const text = '{"s":"\\u003cb\\u003e \\u0026 \\"q\\" \\\\ \\n é 日本 \\u2028","plain":"abc"}';
  const value = parseJson(text);
  assert.ok(isJsonObject(value));
  assert.equal(value['s'], '<b> & "q" \\ \n é 日本 \u2028');
  assert.equal(value['plain'], 'abc');
  assert.deepEqual(parseJson(writeJson(value)), value);
});

test('a __proto__ key is an ordinary own key, whichever parser reads it', () => {
  // Exact numbers only: the native parser; a 1.0: the parser of json-value.ts.
  for (const number of ['1', '1.0']) {
    const value = parseJson(`{"__proto__":{"polluted":true},"a":[${number},null,true,false,{}]}`);
    assert.ok(isJsonObject(value));
    assert.deepEqual(Object.keys(value), ['__proto__', 'a']);
    assert.ok(Object.hasOwn(value, '__proto__'));
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
    assert.equal(writeJson(value), `{"__proto__":{"polluted":true},"a":[${number},null,true,false,{}]}`);
  }
});

test('digits inside strings never send a message to the slow parser, numbers outside do', () => {
  const value = parseJson('{"at":"2024-01-01T10:00:00.000Z","big":"9007199254740993","n":1.5}');
  assert.ok(isJsonObject(value));
  assert.equal(value['at'], '2024-01-01T10:00:00.000Z');
  assert.equal(value['n'], 1.5);
  assert.deepEqual(parseJson('[1e3]'), [new JsonNumber('1e3')]);
  // Escaped quotes and backslashes do not end a string early: its digits stay string content.
  const { value: escaped, exactNumbers } = readJson('{"s":"a\\" 1.0 \\\\","t":"\\\\","n":7}');
  assert.equal(exactNumbers, true);
  assert.ok(isJsonObject(escaped));
  assert.equal(escaped['s'], 'a" 1.0 \\');
  assert.equal(escaped['n'], 7);
  // Integers of 16 digits and more are checked: exact ones stay numbers.
  assert.deepEqual(parseJson('[1234567890123456,-9007199254740991,9007199254740993]'), [1234567890123456, -9007199254740991, new JsonNumber('9007199254740993')]);
  assert.equal(readJson('[1234567890123456,-9007199254740991]').exactNumbers, true);
  assert.equal(readJson('{"a":"x","b":-0}').exactNumbers, false);
});

test('malformed JSON is refused with a position', () => {
  for (const bad of ['', 'not json', '{"a":1', '{"a" 1}', '[1,]', '{"a":01}', '"unterminated', '{"a":1} x', '{"a":"\\x"}', 'nul']) {
    assert.throws(() => parseJson(bad), JsonSyntaxError, bad);
  }
  assert.throws(() => parseJson('['.repeat(300) + '1.0' + ']'.repeat(300)), /nesting too deep/);
});

test('whitespace is allowed where JSON allows it', () => {
  assert.deepEqual(parseJson(' \n\t{ "a" : [ 1 , 2 ] }\r\n'), parseJson('{"a":[1,2]}'));
});

test('scalarText prints ids as Ruby would join them', () => {
  assert.equal(scalarText(16), '16');
  assert.equal(scalarText('16'), '16');
  assert.equal(scalarText(new JsonNumber('9007199254740993')), '9007199254740993');
  assert.equal(scalarText(null), '');
  assert.equal(scalarText(undefined), '');
});
