import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from '../../../src/domain/crc32';

// Expected values come from python3 `zlib.crc32(s.encode("utf-8"))`, not from this code.
describe('crc32', () => {
  test('check value of the standard CRC-32: crc32("123456789") = 0xCBF43926', () => {
    assert.equal(crc32('123456789'), 0xcbf43926);
  });

  test('empty input is 0', () => {
    assert.equal(crc32(''), 0);
    assert.equal(crc32(new Uint8Array(0)), 0);
  });

  const vectors: Array<[string, number]> = [
    ['a', 0xe8b7be43],
    ['abc', 0x352441c2],
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
    ['User:1', 0x7c09c7b4],
    ['42', 0x3224b088],
    ['Admin::User:5', 0xb490e0cf],
    // non-ASCII: hashed over UTF-8 bytes
    ['é', 0x0e048d3e],
    ['日本', 0xc7b7cdcc],
    ['😀', 0x054db544],
  ];
  for (const [input, expected] of vectors) {
    test(`zlib vector ${JSON.stringify(input)}`, () => {
      assert.equal(crc32(input), expected);
    });
  }

  test('result is unsigned (high bit set stays positive)', () => {
    const v = crc32('a');
    assert.ok(v > 0x7fffffff);
    assert.equal(v, 3904355907);
  });

  test('string and its UTF-8 bytes hash the same', () => {
    assert.equal(crc32(new Uint8Array([0xe6, 0x97, 0xa5, 0xe6, 0x9c, 0xac])), 0xc7b7cdcc); // 日本
    assert.equal(crc32(Buffer.from('User:1', 'utf8')), 0x7c09c7b4);
  });

  test('arbitrary bytes (zlib.crc32(bytes([0,1,2,255])))', () => {
    assert.equal(crc32(new Uint8Array([0, 1, 2, 255])), 0x3fb23824);
  });

  test('ASCII prefix followed by non-ASCII is handled across the switch', () => {
    // "a" + U+FFFD + "b" : zlib.crc32("a\ufffdb".encode()) = 0xd0b99122
    assert.equal(crc32('a\ufffdb'), 0xd0b99122);
  });

  test('lone surrogate is hashed as U+FFFD (like Buffer.from / TextEncoder)', () => {
    assert.equal(crc32('a\ud800b'), 0xd0b99122);
  });
});
