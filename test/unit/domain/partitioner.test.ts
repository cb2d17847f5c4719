import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { choosePartition, partitionKeyFromAttribute } from '../../../src/domain/partitioner';

// Expected partitions come from python3 `zlib.crc32(key.encode()) % 12`.
describe('choosePartition', () => {
  const cases: Array<[string, number]> = [
    ['1', 11],
    ['42', 8],
    ['100', 6],
    ['account-7', 5],
    ['User:1', 8],
    ['User:2', 6],
    ['Admin::User:5', 11],
    ['123456789', 2], // 0xCBF43926 = 3421780262, 3421780262 % 12 = 2
  ];
  for (const [key, expected] of cases) {
    test(`partition key ${JSON.stringify(key)} → ${expected} of 12`, () => {
      assert.equal(choosePartition(key, 'Ignored:1', 12), expected);
    });
  }

  test('partition key wins over the message key', () => {
    assert.equal(choosePartition('42', 'User:1', 12), 8);
    assert.equal(choosePartition('1', 'User:1', 12), 11);
  });

  test('no partition key → message key is hashed', () => {
    assert.equal(choosePartition(null, 'User:1', 12), 8);
    assert.equal(choosePartition(undefined, 'User:2', 12), 6);
    assert.equal(choosePartition('', 'Admin::User:5', 12), 11);
  });

  test('a single partition is always 0', () => {
    assert.equal(choosePartition('42', 'User:1', 1), 0);
    assert.equal(choosePartition(null, 'User:1', 1), 0);
  });

  test('other partition counts: crc32("123456789") = 3421780262', () => {
    assert.equal(choosePartition('123456789', 'x', 10), 2);
    assert.equal(choosePartition('123456789', 'x', 7), 3421780262 % 7);
    assert.equal(3421780262 % 7, 5);
  });

  test('invalid partition counts throw RangeError', () => {
    for (const n of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => choosePartition('42', 'User:1', n), RangeError, String(n));
    }
  });
});

describe('partitionKeyFromAttribute (Ruby value.to_i.to_s)', () => {
  const cases: Array<[string, unknown, string]> = [
    ['integer', 42, '42'],
    ['zero', 0, '0'],
    ['negative integer', -17, '-17'],
    ['null (nil.to_i = 0)', null, '0'],
    ['undefined (treated as nil)', undefined, '0'],
    ['bigint beyond 2^53', 9007199254740993n, '9007199254740993'],
    ['negative bigint', -5n, '-5'],
    ['float truncates toward zero', 4.9, '4'],
    ['negative float truncates toward zero', -4.9, '-4'],
    ['small negative float → 0, not -0', -0.5, '0'],
    ['negative zero', -0, '0'],
    ['large float printed with all digits', 1e21, '1000000000000000000000'],
    ['numeric string', '42', '42'],
    ['partially numeric string', '12abc', '12'],
    ['non-numeric string', 'abc', '0'],
    ['empty string', '', '0'],
    ['leading space', ' 7', '7'],
    ['leading tab and newline', '\t\n 8', '8'],
    ['negative string', '-3', '-3'],
    ['explicit plus sign', '+5', '5'],
    ['leading zeros', '007', '7'],
    ['"-0"', '-0', '0'],
    ['underscore between digits', '1_000', '1000'],
    ['double underscore stops parsing', '1__000', '1'],
    ['trailing underscore', '12_', '12'],
    ['leading underscore', '_12', '0'],
    ['space between sign and digits', '- 5', '0'],
    ['decimal string stops at the dot', '3.9', '3'],
    ['hex is not parsed', '0x1A', '0'],
    ['huge numeric string keeps digits', '123456789012345678901234567890', '123456789012345678901234567890'],
    ['uuid-like string', '550e8400-e29b-41d4-a716-446655440000', '550'],
    ['true (Ruby raises; we use 0)', true, '0'],
    ['false (Ruby raises; we use 0)', false, '0'],
    ['NaN (Ruby raises; we use 0)', Number.NaN, '0'],
    ['Infinity (Ruby raises; we use 0)', Number.POSITIVE_INFINITY, '0'],
    ['object', { id: 1 }, '0'],
    ['array', [1], '0'],
    ['Date → epoch seconds (Time#to_i)', new Date('2024-01-01T10:00:00.999Z'), '1704103200'],
    ['Date before the epoch floors', new Date(-1500), '-2'],
    ['invalid Date', new Date('nope'), '0'],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      assert.equal(partitionKeyFromAttribute(input), expected);
    });
  }
});
