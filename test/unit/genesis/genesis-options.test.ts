import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_GENESIS_BATCH_SIZE,
  GenesisUsageError,
  describeOptions,
  optionsForNewRun,
  parseGenesisFlags,
  parseRate,
  parseStoredOptions,
  parseTimestamp,
} from '../../../src/genesis/genesis-options';

test('rates: per second by default, per minute and per hour on request', () => {
  assert.equal(parseRate('200/s'), 200);
  assert.equal(parseRate('200'), 200);
  assert.equal(parseRate('2.5/s'), 2.5);
  assert.equal(parseRate('600/m'), 10);
  assert.equal(parseRate('36000/h'), 10);
  for (const bad of ['fast', '0/s', '-5/s', '10/d', '']) assert.throws(() => parseRate(bad), GenesisUsageError, bad);
});

test('timestamps: ISO 8601; a missing zone means UTC, never local time', () => {
  assert.equal(parseTimestamp('2024-01-31', '--from'), '2024-01-31T00:00:00.000Z');
  assert.equal(parseTimestamp('2024-01-31T12:30', '--from'), '2024-01-31T12:30:00.000Z');
  assert.equal(parseTimestamp('2024-01-31 12:30:15.123456', '--from'), '2024-01-31T12:30:15.123Z');
  assert.equal(parseTimestamp('2024-01-31T12:00:00+02:00', '--from'), '2024-01-31T10:00:00.000Z');
  assert.equal(parseTimestamp('2024-01-31T12:00:00z', '--from'), '2024-01-31T12:00:00.000Z');
  assert.throws(() => parseTimestamp('yesterday', '--to'), /--to: "yesterday" is not an ISO 8601 timestamp/);
  assert.throws(() => parseTimestamp('2024-13-45', '--to'), GenesisUsageError);
});

test('flags: defaults, and the combinations that make no sense', () => {
  assert.deepEqual(parseGenesisFlags({}), {
    from: null,
    to: null,
    visibleOnly: false,
    ratePerSecond: null,
    overMs: null,
    over: null,
    batchSize: DEFAULT_GENESIS_BATCH_SIZE,
  });
  assert.throws(() => parseGenesisFlags({ rate: '10/s', over: '1h' }), /alternatives/);
  assert.throws(() => parseGenesisFlags({ from: '2024-02-01', to: '2024-01-01' }), /is after --to/);
  assert.throws(() => parseGenesisFlags({ over: 'soon' }), /--over: "soon" is not a duration/);
  assert.throws(() => parseGenesisFlags({ batchSize: '0' }), /--batch-size/);
  assert.throws(() => parseGenesisFlags({ batchSize: '1.5' }), /--batch-size/);
});

test('--over becomes the rate that spreads the counted total over the duration', () => {
  const flags = parseGenesisFlags({ over: '30m', visibleOnly: true, batchSize: '100' });
  const options = optionsForNewRun(flags, 9_000);
  assert.equal(options.ratePerSecond, 5);
  assert.equal(options.over, '30m');
  assert.equal(options.batchSize, 100);
  assert.throws(() => optionsForNewRun(flags, null), /use --rate instead/);
});

test('stored options round-trip through JSON and tolerate junk', () => {
  const options = optionsForNewRun(parseGenesisFlags({ from: '2024-01-01', rate: '50/s' }), 10);
  assert.deepEqual(parseStoredOptions(JSON.parse(JSON.stringify(options))), options);
  assert.deepEqual(parseStoredOptions(null), {
    from: null,
    to: null,
    visibleOnly: false,
    ratePerSecond: null,
    over: null,
    batchSize: DEFAULT_GENESIS_BATCH_SIZE,
  });
  assert.equal(parseStoredOptions({ ratePerSecond: -1, batchSize: 'x' }).ratePerSecond, null);
});

test('the options in one line', () => {
  const options = optionsForNewRun(parseGenesisFlags({ from: '2024-01-01', over: '1h', visibleOnly: true }), 7_200);
  assert.equal(describeOptions(options), 'updated_at 2024-01-01T00:00:00.000Z .. +∞, visible records only, at most 2 records/s (spread over 1h), 500 per page');
});

test('strict flags: a day the month does not have, batch sizes as whole numbers in range, run ids', async () => {
  const { MAX_GENESIS_BATCH_SIZE, parseRunId } = await import('../../../src/genesis/genesis-options');
  assert.throws(() => parseTimestamp('2024-02-30', '--from'), /--from: "2024-02-30" is not an ISO 8601 timestamp/);
  assert.throws(() => parseTimestamp('2023-02-29T10:00', '--to'), GenesisUsageError);
  assert.equal(parseTimestamp('2024-02-29T10:00', '--to'), '2024-02-29T10:00:00.000Z');
  assert.throws(() => parseGenesisFlags({ batchSize: '1e3' }), /--batch-size: "1e3" is not a whole number \(digits only: no fraction, sign or exponent; 1 to 100000\)/);
  assert.throws(() => parseGenesisFlags({ batchSize: String(MAX_GENESIS_BATCH_SIZE + 1) }), /--batch-size: "100001" is out of range \(1 to 100000\)/);
  assert.equal(parseGenesisFlags({ batchSize: String(MAX_GENESIS_BATCH_SIZE) }).batchSize, MAX_GENESIS_BATCH_SIZE);
  assert.equal(parseRunId(' 42 '), '42');
  assert.throws(() => parseRunId('last'), /--resume: "last" is not a run id \(a number\)/);
});
