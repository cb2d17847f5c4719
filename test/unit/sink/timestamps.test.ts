import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timestampMicros } from '../../../src/sink/timestamps';

test('Rails times compare by instant, to the microsecond, whatever their offset', () => {
  const utc = timestampMicros('2024-01-01T10:00:00.123Z');
  assert.equal(utc, Date.UTC(2024, 0, 1, 10, 0, 0, 123) * 1000);
  assert.equal(timestampMicros('2024-01-01T12:00:00.123+02:00'), utc);
  assert.equal(timestampMicros('2024-01-01T10:00:00.123'), utc);
  assert.equal(timestampMicros('2024-01-01 10:00:00.123456Z'), (utc as number) + 456);
  assert.equal(timestampMicros('2024-01-01T05:30:00-0430'), Date.UTC(2024, 0, 1, 10, 0) * 1000);
});

test('anything else is not a timestamp', () => {
  for (const bad of ['yesterday', '2024-13-01T00:00:00Z', '2024-01-01', 1704103200, null, '2024-01-01T25:00:00Z']) {
    assert.equal(timestampMicros(bad), undefined, String(bad));
  }
});
