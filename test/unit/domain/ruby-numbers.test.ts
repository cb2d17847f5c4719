import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatPgNumeric, formatRubyFloat } from '../../../src/domain/ruby-numbers';

// Expected strings are what Ruby 3 with ActiveSupport prints: BigDecimal#to_s("F") and Float#to_s.
describe('formatPgNumeric (BigDecimal#to_s("F"))', () => {
  const cases: Array<[string, string | null]> = [
    ['12.50', '12.5'],
    ['100.00', '100.0'],
    ['3', '3.0'],
    ['0.00', '0.0'],
    ['-0.50', '-0.5'],
    ['-0.00', '0.0'],
    ['99.99', '99.99'],
    ['000123.4500', '123.45'],
    ['12345678901234567890.123', '12345678901234567890.123'],
    ['NaN', null],
    ['Infinity', null],
    ['-Infinity', null],
  ];
  for (const [input, expected] of cases) {
    test(`${input} → ${expected}`, () => assert.equal(formatPgNumeric(input), expected));
  }
});

describe('formatRubyFloat (Float#to_s)', () => {
  const cases: Array<[number, string | null]> = [
    [2, '2.0'],
    [0.25, '0.25'],
    [-1.5, '-1.5'],
    [0, '0.0'],
    [-0, '-0.0'],
    [0.1, '0.1'],
    [1e15, '1000000000000000.0'],
    [1e16, '1.0e+16'],
    [1.5e20, '1.5e+20'],
    [0.0001, '0.0001'],
    [0.00001, '1.0e-05'],
    [1.234e-7, '1.234e-07'],
    [123456.789, '123456.789'],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
  ];
  for (const [input, expected] of cases) {
    test(`${input} → ${expected}`, () => assert.equal(formatRubyFloat(input), expected));
  }
});
