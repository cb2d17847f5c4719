import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCli, UsageError } from '../../../src/cli/args';
import { settingsOverrides } from '../../../src/config/load-configuration';
import { checkOptionalNames, cleanupFlags } from '../../../src/cli/flag-checks';

const usage = (fn: () => unknown, expected: RegExp): void => assert.throws(fn, (err: unknown) => err instanceof UsageError && expected.test(err.message));

test('a flag that takes one value given twice is refused instead of the last silently winning', () => {
  usage(() => parseCli(['tombstone', '--topic', 'users', '--topic', 'orders', '--model', 'User', '--id', '1']), /^tombstone: --topic is given twice \(give it once\)$/);
  usage(() => parseCli(['run', '--topics', 'a.yaml', '--topics=b.yaml']), /^run: --topics is given twice/);
  // --with is repeatable by design.
  assert.deepEqual(parseCli(['migrate', '--with', 'notify_trigger', '--with', 'strict_retry_index']).optionalMigrations, ['notify_trigger', 'strict_retry_index']);
});

test('an empty flag value is refused', () => {
  usage(() => parseCli(['run', '--topics', '']), /^run: --topics needs a value, got an empty one$/);
  usage(() => parseCli(['genesis', '--topic=', '--model', 'User']), /^genesis: --topic needs a value/);
});

test('flags that set settings carry their names into settings messages', () => {
  assert.deepEqual(settingsOverrides({ topicsFile: 't.yaml', logLevel: undefined }), {
    'topics.file': { flag: '--topics', value: 't.yaml' },
    'log.level': undefined,
  });
});

test('cleanup flags use the rules of the retention settings', () => {
  const args = (extra: Record<string, string>) => ({ command: 'cleanup' as const, exitWhenIdle: false, optionalMigrations: [], olderThan: '3d', ...extra });
  assert.deepEqual(cleanupFlags(args({ batchSize: '500', pause: '250ms' })), { olderThanMs: 259_200_000, batchSize: 500, pauseMs: 250 });
  assert.deepEqual(cleanupFlags(args({})), { olderThanMs: 259_200_000 });
  usage(() => cleanupFlags(args({ olderThan: '3 days' })), /^cleanup --older-than: "3 days" is not a duration \(examples/);
  usage(() => cleanupFlags(args({ olderThan: '0s' })), /^cleanup --older-than: "0s" is out of range \(1s to/);
  usage(() => cleanupFlags(args({ batchSize: '1e3' })), /^cleanup --batch-size: "1e3" is not a whole number \(digits only: no fraction, sign or exponent; 1 to 100000\)$/);
  usage(() => cleanupFlags(args({ batchSize: '0' })), /^cleanup --batch-size: "0" is out of range \(1 to 100000\)$/);
  usage(() => cleanupFlags(args({ pause: 'briefly' })), /^cleanup --pause: "briefly" is not a duration/);
});

test('migrate --with names an optional migration, once, and lists the valid names', () => {
  const valid = ['notify_trigger', 'strict_retry_index'];
  checkOptionalNames(['notify_trigger'], valid);
  usage(() => checkOptionalNames(['nope'], valid), /^migrate --with nope: unknown optional migration \(valid names: notify_trigger, strict_retry_index\)$/);
  usage(() => checkOptionalNames(['notify_trigger', 'notify_trigger'], valid), /^migrate --with notify_trigger is given twice$/);
});
