import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRule, formatMs, parseBoolean, parseSettingValue, parseWholeNumber, type ValueRule } from '../../../src/config/setting-values';

const refused = (rule: ValueRule, text: string): string => {
  const parsed = parseSettingValue(rule, text);
  assert.equal(parsed.ok, false, `${JSON.stringify(text)} was accepted`);
  return parsed.ok ? '' : parsed.reason;
};

test('whole numbers: digits only, never rounded', () => {
  assert.deepEqual(parseWholeNumber('1000', 1, 100_000), { ok: true, value: 1000 });
  assert.deepEqual(parseWholeNumber('007', 1, 100_000), { ok: true, value: 7 });
  const rule: ValueRule = { kind: 'integer', min: 1, max: 100_000 };
  assert.deepEqual(parseSettingValue(rule, ' 50\n'), { ok: true, value: 50 }, 'surrounding blanks are a quoting accident');
  for (const bad of ['1.5', '1e3', '1E3', '+5', '0x10', '1_000', '5 0', '', 'lots', '1.0', 'Infinity', 'NaN']) {
    assert.match(refused(rule, bad), /^is not a whole number \(digits only: no fraction, sign or exponent; 1 to 100000\)$/, bad);
  }
});

test('whole numbers: out of range, including 0 and negatives, names the range', () => {
  const rule: ValueRule = { kind: 'integer', min: 1, max: 100_000 };
  assert.equal(refused(rule, '0'), 'is out of range (1 to 100000)');
  assert.equal(refused(rule, '100001'), 'is out of range (1 to 100000)');
  assert.equal(refused(rule, '-1'), 'is out of range (1 to 100000)');
  assert.equal(refused(rule, '99999999999999999999'), 'is out of range (1 to 100000)');
  assert.deepEqual(parseSettingValue({ kind: 'integer', min: 0, max: 10 }, '0'), { ok: true, value: 0 });
});

test('booleans: true/false/1/0/yes/no in any case, nothing else', () => {
  for (const yes of ['true', 'TRUE', '1', 'yes', 'Yes']) assert.deepEqual(parseBoolean(yes), { ok: true, value: true }, yes);
  for (const no of ['false', 'False', '0', 'no', 'NO']) assert.deepEqual(parseBoolean(no), { ok: true, value: false }, no);
  for (const bad of ['on', 'off', 'y', 'n', '2', '', 'maybe', 'disabled']) {
    assert.equal(refused({ kind: 'boolean' }, bad), 'is not a boolean (true, false, 1, 0, yes or no)', bad);
  }
});

test('decimals: plain notation within the range', () => {
  const rule: ValueRule = { kind: 'decimal', min: 0, max: 1 };
  assert.deepEqual(parseSettingValue(rule, '0.25'), { ok: true, value: 0.25 });
  assert.deepEqual(parseSettingValue(rule, '1'), { ok: true, value: 1 });
  for (const bad of ['.5', '5e-1', '-0.1', '0,5', '']) assert.match(refused(rule, bad), /is not a decimal number/, bad);
  assert.equal(refused(rule, '1.5'), 'is out of range (0 to 1)');
});

test('choices are exact and listed', () => {
  const rule: ValueRule = { kind: 'choice', values: ['mark', 'delete'] };
  assert.deepEqual(parseSettingValue(rule, 'delete'), { ok: true, value: 'delete' });
  assert.equal(refused(rule, 'Delete'), 'is not one of: mark, delete');
});

test('text: empty only where allowed; names checked by pattern and PostgreSQL\'s 63-byte limit', () => {
  assert.equal(refused({ kind: 'text', allowEmpty: false }, '  '), 'must not be empty');
  assert.deepEqual(parseSettingValue({ kind: 'text', allowEmpty: true }, ''), { ok: true, value: '' });
  const name: ValueRule = { kind: 'text', allowEmpty: false, pattern: /^[a-z_][a-z0-9_]*$/, patternHint: 'a lowercase identifier', maxBytes: 63 };
  assert.equal(refused(name, 'Public'), 'must be a lowercase identifier');
  assert.match(refused(name, 'x'.repeat(64)), /longer than 63 bytes/);
  assert.deepEqual(parseSettingValue(name, 'x'.repeat(63)), { ok: true, value: 'x'.repeat(63) });
});

test('durations: syntax and range, kept as text', () => {
  const rule: ValueRule = { kind: 'duration', allowEmpty: true, minMs: 1000, maxMs: 86_400_000 };
  assert.deepEqual(parseSettingValue(rule, '3h'), { ok: true, value: '3h' });
  assert.deepEqual(parseSettingValue(rule, ''), { ok: true, value: '' });
  assert.match(refused(rule, '3x'), /is not a duration \(examples/);
  assert.equal(refused(rule, '500ms'), 'is out of range (1s to 1d)');
  assert.equal(refused(rule, '2d'), 'is out of range (1s to 1d)');
  assert.match(refused({ ...rule, allowEmpty: false }, ''), /must not be empty/);
});

test('help text describes each kind; bounds print in the largest whole unit', () => {
  assert.equal(describeRule({ kind: 'integer', min: 1, max: 100 }), 'whole number 1..100');
  assert.equal(describeRule({ kind: 'boolean' }), 'true/false (also 1/0, yes/no)');
  assert.equal(formatMs(90_000), '90s');
  assert.equal(formatMs(3_600_000), '1h');
  assert.equal(formatMs(1500), '1500ms');
});
