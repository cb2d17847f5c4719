import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PgTypeInfo } from '../../../../src/domain/column-types/codec';
import { ipAddrToS, parseIpAddr } from '../../../../src/domain/column-types/network';
import { parsePgArray } from '../../../../src/domain/column-types/pg-array';
import { rubyJsonFromText } from '../../../../src/domain/column-types/ruby-json-reader';
import { intervalSeconds, parseTimestamp, timestampJson, dateJson, timeJson, xmlschema } from '../../../../src/domain/column-types/times';
import { codecFor } from '../../../../src/domain/column-types/type-mapping';
import { EncodingError } from '../../../../src/domain/rails-json';

// Fast checks of the codecs, with values seen from ActiveRecord 6.1 + ActiveSupport 6.1 on the
// same PostgreSQL text. The differential oracle (test/integration/oracle) is the judge.

const base = (name: string, typmod = -1): PgTypeInfo => ({ oid: 0, name, kind: 'b', typmod });
const json = (info: PgTypeInfo, text: string): string => {
  const choice = codecFor(info);
  if (!('codec' in choice)) throw new Error(choice.refused);
  return choice.codec.json(text, 'c');
};

describe('json / jsonb as Ruby re-writes them', () => {
  const cases: Array<[string, string]> = [
    ['{"b":1,"a":1.0,"a":2,"big":123456789012345678901234567890,"f":1e20,"s":"2024-01-01T10:00:00"}', '{"b":1,"a":2,"big":123456789012345678901234567890,"f":1.0e+20,"s":"2024-01-01T10:00:00"}'],
    ['[1.5e300, 1e400, -0, -0.0, 0.1, 1E2, "\\u2028<>&", "\\ud83d\\ude00", "\\u0000"]', '[1.5e+300,null,0,-0.0,0.1,100.0,"\\u2028\\u003c\\u003e\\u0026","\ud83d\ude00","\\u0000"]'],
    ['{"a": {"x": [1, {"y": null}]}, "a": true}', '{"a":true}'],
    [' "str" ', '"str"'],
    ['null', 'null'],
    ['["\\ud800\\u0041"]', '["\u{10041}"]'],
    ['["\\ud800x"]', 'null'],
    ['[2.5E-324, 1e-400, 0e10]', '[5.0e-324,0.0,0.0]'],
  ];
  for (const [input, expected] of cases) test(input, () => assert.equal(rubyJsonFromText(input, 'c'), expected));

  test('nesting: 100 levels parse, 101 read as nil', () => {
    assert.equal(rubyJsonFromText(`${'['.repeat(100)}${']'.repeat(100)}`, 'c'), `${'['.repeat(100)}${']'.repeat(100)}`);
    assert.equal(rubyJsonFromText(`${'['.repeat(101)}${']'.repeat(101)}`, 'c'), 'null');
  });

  test('a lone low surrogate cannot be encoded; a later duplicate key replacing it can', () => {
    assert.throws(() => rubyJsonFromText('["\\udc00"]', 'prefs'), EncodingError);
    assert.equal(rubyJsonFromText('{"a":"\\udc00","a":1}', 'prefs'), '{"a":1}');
  });
});

describe('times', () => {
  test('timestamps: milliseconds truncated, BC years astronomical, large years, infinity', () => {
    assert.equal(timestampJson('2024-01-02 10:00:00.987654+02', 'c'), '"2024-01-02T08:00:00.987Z"');
    assert.equal(timestampJson('0044-03-15 10:00:00 BC', 'c'), '"-0043-03-15T10:00:00.000Z"');
    assert.equal(timestampJson('10000-01-01 00:00:00+00', 'c'), '"10000-01-01T00:00:00.000Z"');
    assert.equal(timestampJson('2024-02-29 23:59:59.9999+05:30', 'c'), '"2024-02-29T18:29:59.999Z"');
    assert.equal(timestampJson('infinity', 'c'), 'null');
    assert.throws(() => timestampJson('02/01/2024 10:00:00', 'c'), EncodingError);
  });

  test('timestamps: the plain UTC text takes a shortcut that writes what the full parse writes', () => {
    const texts = [
      '2024-01-02 10:00:00', '2024-01-02 10:00:00+00', '2024-01-02 10:00:00.5', '2024-01-02 10:00:00.05+00', '2024-01-02 10:00:00.123456',
      '2024-12-31 23:59:59.999999+00', '0001-01-01 00:00:00', '9999-12-31 23:59:59.1', '2000-02-29 12:34:56.78901',
    ];
    for (const text of texts) {
      const t = parseTimestamp(text, 'c');
      assert.ok(typeof t !== 'string');
      assert.equal(timestampJson(text, 'c'), `"${xmlschema(t)}"`, text);
    }
  });

  test('dates and times', () => {
    assert.equal(dateJson('0044-03-15 BC', 'c'), '"-0043-03-15"');
    assert.equal(dateJson('1582-10-10', 'c'), 'null', "Ruby's Date has no such day (Julian calendar)");
    assert.equal(dateJson('-infinity', 'c'), 'null');
    assert.equal(timeJson('24:00:00', 'c'), '"2000-01-02T00:00:00.000Z"');
    assert.equal(timeJson('10:11:12.345678', 'c'), '"2000-01-01T10:11:12.345Z"');
  });

  test('intervals: Duration#to_i', () => {
    assert.equal(intervalSeconds('P1Y2M3DT4H5M6.5S'), '37090350');
    assert.equal(intervalSeconds('P-1DT-0.5S'), '-86400');
    assert.equal(intervalSeconds('P1M'), '2629746');
    assert.equal(intervalSeconds('P-178000000Y'), '-5617137456000000');
    assert.equal(intervalSeconds('PT0S'), '0');
  });
});

describe('network addresses (IPAddr#to_s)', () => {
  const cases: Array<[string, string]> = [
    ['192.168.1.5/24', '192.168.1.0'],
    ['10.1.2.3', '10.1.2.3'],
    ['::1', '::1'],
    ['2001:db8::/32', '2001:db8::'],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4'],
    ['::1:2', '::0.1.0.2'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ];
  for (const [input, expected] of cases) test(input, () => assert.equal(ipAddrToS(parseIpAddr(input, 'c')), expected));
});

describe('arrays and scalars', () => {
  test('array text splits like ruby-pg', () => {
    assert.deepEqual(parsePgArray('[0:1]={1,2}', ',', 'c'), ['1', '2']);
    assert.deepEqual(parsePgArray('{"a\\"b",NULL,"NULL",null}', ',', 'c'), ['a"b', null, 'NULL', 'null']);
    assert.deepEqual(parsePgArray('{{1,2},{3,4}}', ',', 'c'), [['1', '2'], ['3', '4']]);
  });

  test('typed arrays, numerics, money, floats, points, bytea, hstore', () => {
    const int4Array: PgTypeInfo = { oid: 0, name: '_int4', kind: 'array', element: base('int4'), delimiter: ',', typmod: -1 };
    assert.equal(json(int4Array, '{{1,NULL},{NULL,4}}'), '[[1,null],[null,4]]');
    assert.equal(json(base('numeric'), '123456789012345678901234567890.123'), '"123456789012345678901234567890.123"');
    assert.equal(json(base('numeric', (10 << 16) + 4), '42'), '42', 'numeric(10,0) is an Integer');
    assert.equal(json(base('numeric'), 'NaN'), 'null');
    assert.equal(json(base('money'), '-$92,233,720,368,547,758.08'), '"-92233720368547758.08"');
    assert.equal(json(base('float8'), '1e+16'), '1.0e+16');
    assert.equal(json(base('float4'), '-0'), '-0.0');
    assert.equal(json(base('point'), '(1.5,-0)'), '{"x":1.5,"y":-0.0}');
    assert.throws(() => json(base('point'), '(NaN,1)'), EncodingError);
    assert.equal(json(base('bytea'), '\\xc3a9'), '"\u00e9"');
    assert.throws(() => json(base('bytea'), '\\xdeadbeef'), EncodingError);
    assert.equal(json(base('hstore'), '"a"=>"1", "b"=>NULL, "q\\"k"=>"NULL"'), '{"a":"1","b":null,"q\\"k":"NULL"}');
    assert.equal(json(base('timetz'), '10:11:12+03'), '"10:11:12+03"', 'a type Rails does not know is its text');
  });

  test('ranges print as Ruby Range#to_s; an excluded start fails the row', () => {
    const range = (sub: string): PgTypeInfo => ({ oid: 0, name: `${sub}range`, kind: 'r', element: base(sub), typmod: -1 });
    assert.equal(json(range('int4'), '[1,5)'), '"1...5"');
    assert.equal(json(range('numeric'), '[1.5,2.5]'), '"1.5..2.5"');
    assert.equal(json(range('timestamp'), '["2024-01-01 10:00:00","2024-01-02 10:00:00")'), '"2024-01-01 10:00:00 UTC...2024-01-02 10:00:00 UTC"');
    assert.equal(json(range('int4'), '[1,)'), '"1...Infinity"');
    assert.equal(json(range('int4'), 'empty'), 'null');
    assert.throws(() => json(range('numeric'), '(1.5,2.5]'), EncodingError);
  });
});

describe('integer ids match by value', () => {
  test('every text of one integer gives one key; other text is its own key', () => {
    for (const type of ['int2', 'int4', 'int8']) {
      const choice = codecFor(base(type));
      if (!('codec' in choice)) throw new Error(choice.refused);
      const idKey = choice.codec.idKey as (t: string) => string;
      for (const text of ['42', '+42', '042', ' 42 ', '0042']) assert.equal(idKey(text), '42', `${type} ${JSON.stringify(text)}`);
      for (const text of ['0', '-0', '+0', '00']) assert.equal(idKey(text), '0', `${type} ${JSON.stringify(text)}`);
      assert.equal(idKey('-7'), '-7');
      assert.equal(idKey('-007'), '-7');
      assert.equal(idKey('9223372036854775807'), '9223372036854775807');
      assert.equal(idKey('42abc'), '42abc');
      assert.equal(idKey(''), '');
    }
  });
});
