import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isJsonObject, JsonNumber, JsonSyntaxError, parseJson, scalarText, writeJson } from '../../../src/sink/json-value';

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

test('a __proto__ key is an ordinary key of a prototype-less object', () => {
  const value = parseJson('{"__proto__":{"polluted":true},"a":[1,null,true,false,{}]}');
  assert.ok(isJsonObject(value));
  assert.equal(Object.getPrototypeOf(value), null);
  assert.deepEqual(Object.keys(value), ['__proto__', 'a']);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.equal(writeJson(value), '{"__proto__":{"polluted":true},"a":[1,null,true,false,{}]}');
});

test('malformed JSON is refused with a position', () => {
  for (const bad of ['', 'not json', '{"a":1', '{"a" 1}', '[1,]', '{"a":01}', '"unterminated', '{"a":1} x', '{"a":"\\x"}', 'nul']) {
    assert.throws(() => parseJson(bad), JsonSyntaxError, bad);
  }
  assert.throws(() => parseJson('['.repeat(300) + ']'.repeat(300)), /nesting too deep/);
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
