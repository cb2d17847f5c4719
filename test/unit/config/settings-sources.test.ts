import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSettings, type LoadSettingsOptions } from '../../../src/config/settings';
import { RelayError } from '../../../src/errors';

// Every value is parsed strictly, and every message names the env var; the settings file's key and
// line when the file gave the value, the flag when a flag did.

function settingsFile(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'settings-')), 'settings.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** The lines of the CONFIG_INVALID that loadSettings throws. */
function problems(options: LoadSettingsOptions): string[] {
  try {
    loadSettings(options);
  } catch (err) {
    assert.ok(err instanceof RelayError && err.code === 'CONFIG_INVALID', String(err));
    return err.message.split('\n');
  }
  assert.fail('the settings were accepted');
}

test('integers from env: fractions and exponents are refused, not rounded to 1', () => {
  assert.deepEqual(problems({ env: { RELAY_BATCH_SIZE: '1.5' } }), [
    'RELAY_BATCH_SIZE (relay.batchSize): "1.5" is not a whole number (digits only: no fraction, sign or exponent; 1 to 100000)',
  ]);
  assert.deepEqual(problems({ env: { RELAY_BATCH_SIZE: '1e3' } }), [
    'RELAY_BATCH_SIZE (relay.batchSize): "1e3" is not a whole number (digits only: no fraction, sign or exponent; 1 to 100000)',
  ]);
});

test('0 is out of range for batch size, batches in flight and pool size', () => {
  assert.deepEqual(problems({ env: { RELAY_BATCH_SIZE: '0' } }), ['RELAY_BATCH_SIZE (relay.batchSize): "0" is out of range (1 to 100000)']);
  assert.deepEqual(problems({ env: { RELAY_MAX_INFLIGHT_BATCHES: '0' } }), ['RELAY_MAX_INFLIGHT_BATCHES (relay.maxInflightBatches): "0" is out of range (1 to 100)']);
  assert.deepEqual(problems({ env: { DATABASE_POOL_SIZE: '0' } }), ['DATABASE_POOL_SIZE (database.poolSize): "0" is out of range (1 to 1000)']);
});

test('other ranges: ports, intervals with a floor, timers Node can honour, the error backoff cap', () => {
  assert.match(problems({ env: { HTTP_PORT: '70000' } })[0] ?? '', /^HTTP_PORT \(http\.port\): "70000" is out of range \(0 to 65535\)$/);
  assert.match(problems({ env: { HEALTH_READINESS_INTERVAL_MS: '50' } })[0] ?? '', /"50" is out of range \(100 to 2147483647\)/);
  assert.match(problems({ env: { METRICS_BACKLOG_INTERVAL_MS: '0' } })[0] ?? '', /METRICS_BACKLOG_INTERVAL_MS .*out of range \(100 to/);
  assert.match(problems({ env: { RELAY_POLL_INTERVAL_MS: '0' } })[0] ?? '', /RELAY_POLL_INTERVAL_MS .*"0" is out of range \(1 to 2147483647\)/);
  assert.match(problems({ env: { RELAY_ERROR_BACKOFF_MS: '60000' } })[0] ?? '', /RELAY_ERROR_BACKOFF_MS .*out of range \(1 to 30000\)/);
  assert.match(problems({ env: { RETRY_JITTER_RATIO: '1.5' } })[0] ?? '', /RETRY_JITTER_RATIO .*out of range \(0 to 1\)/);
  assert.match(problems({ env: { RETRY_BASE_SECONDS: '0' } })[0] ?? '', /RETRY_BASE_SECONDS .*out of range/);
  assert.match(problems({ env: { RETENTION_INTERVAL: '10ms' } })[0] ?? '', /RETENTION_INTERVAL \(retention\.interval\): "10ms" is out of range \(1s to/);
  assert.match(problems({ env: { RETENTION_OLDER_THAN: 'soon' } })[0] ?? '', /RETENTION_OLDER_THAN .*is not a duration/);
});

test('booleans: 0 and no mean off; unknown words are refused instead of meaning on', () => {
  assert.equal(loadSettings({ env: { RELAY_LISTEN_NOTIFY: '0' } }).relay.listenNotify, false);
  assert.equal(loadSettings({ env: { RELAY_LISTEN_NOTIFY: 'no' } }).relay.listenNotify, false);
  assert.equal(loadSettings({ env: { RELAY_LISTEN_NOTIFY: 'YES' } }).relay.listenNotify, true);
  assert.equal(loadSettings({ env: { HEALTH_COMPAT_FILE: '1' } }).health.compatFile, true);
  assert.deepEqual(problems({ env: { RELAY_LISTEN_NOTIFY: 'off' } }), ['RELAY_LISTEN_NOTIFY (relay.listenNotify): "off" is not a boolean (true, false, 1, 0, yes or no)']);
});

test('choices, names and required text', () => {
  assert.deepEqual(problems({ env: { RELAY_ON_PUBLISH: 'drop' } }), ['RELAY_ON_PUBLISH (relay.onPublish): "drop" is not one of: mark, delete']);
  assert.match(problems({ env: { DATABASE_SCHEMA: 'Sales' } })[0] ?? '', /^DATABASE_SCHEMA \(database\.schema\): "Sales" must be a lowercase identifier/);
  assert.match(problems({ env: { DATABASE_SCHEMA: 'my-schema' } })[0] ?? '', /must be a lowercase identifier/);
  assert.deepEqual(problems({ env: { OUTBOX_TABLE: '' } }), ['OUTBOX_TABLE (database.table): "" must not be empty']);
  assert.match(problems({ env: { KAFKA_CLIENT_ID: ' ' } })[0] ?? '', /KAFKA_CLIENT_ID \(kafka\.clientId\): "" must not be empty/);
});

test('every problem is reported at once', () => {
  const lines = problems({ env: { RELAY_BATCH_SIZE: '1.5', RELAY_LISTEN_NOTIFY: 'maybe', LOG_LEVEL: 'loud' } });
  assert.equal(lines.length, 3, lines.join('\n'));
});

test('a value from the settings file names the file, the line, the key and the env var', () => {
  const file = settingsFile('# relay tuning\nrelay:\n  batchSize: 1e3\n  listenNotify: maybe\nhealth:\n  compatFile: no\n');
  assert.deepEqual(problems({ env: {}, configFile: file }), [
    `${file}:3: relay.batchSize (env RELAY_BATCH_SIZE): "1e3" is not a whole number (digits only: no fraction, sign or exponent; 1 to 100000)`,
    `${file}:4: relay.listenNotify (env RELAY_LISTEN_NOTIFY): "maybe" is not a boolean (true, false, 1, 0, yes or no)`,
  ]);
  // YAML would read 0x10 as 16 and 1_000 as a string: the file's text is parsed like env text.
  assert.match(problems({ env: {}, configFile: settingsFile('relay:\n  batchSize: 0x10\n') })[0] ?? '', /:2: relay\.batchSize .*"0x10" is not a whole number/);
  const ok = loadSettings({ env: {}, configFile: settingsFile('relay:\n  batchSize: "250"\n  listenNotify: no\n') });
  assert.equal(ok.relay.batchSize, 250);
  assert.equal(ok.relay.listenNotify, false);
});

test('the settings file: unknown sections and keys, and lists where a value belongs, with lines', () => {
  const file = settingsFile('relay:\n  batchSize: 10\n  batchSise: 20\nrealy:\n  x: 1\nhttp: 8080\nretry:\n  baseSeconds: [1, 2]\n');
  const lines = problems({ env: {}, configFile: file });
  assert.ok(lines.includes(`${file}:3: relay.batchSise: unknown setting (relay has: batchSize, maxInflightBatches, activeSlots, lockTableShare, pollIntervalMs, poisonMaxCrashes, onPublish, listenNotify, publishDelayMs, shutdownGraceMs, errorBackoffMs, startRetryMaxMs, migrateAtStart)`), lines.join('\n'));
  assert.ok(lines.some((l) => l.startsWith(`${file}:4: realy: unknown section (sections: database, kafka,`)), lines.join('\n'));
  assert.ok(lines.includes(`${file}:6: http: must be a map of settings (port, host)`), lines.join('\n'));
  assert.ok(lines.includes(`${file}:8: retry.baseSeconds (env RETRY_BASE_SECONDS): must be a single value, not a list or map`), lines.join('\n'));
});

test('env wins over the file, so a bad file value under a good env var does not matter', () => {
  const file = settingsFile('relay:\n  batchSize: 1.5\n');
  assert.equal(loadSettings({ env: { RELAY_BATCH_SIZE: '30' }, configFile: file }).relay.batchSize, 30);
});

test('a value from a flag names the flag, the key and the env var', () => {
  assert.deepEqual(problems({ env: { LOG_LEVEL: 'info' }, overrides: { 'log.level': { flag: '--log-level', value: 'LOUD' } } }), [
    '--log-level (log.level, env LOG_LEVEL): "LOUD" is not one of: fatal, error, warn, info, debug, trace, silent',
  ]);
  assert.equal(loadSettings({ env: { LOG_LEVEL: 'info' }, overrides: { 'log.level': { flag: '--log-level', value: 'warn' } } }).log.level, 'warn');
});

test('the database URL is checked before connecting; the message never repeats it', () => {
  assert.deepEqual(problems({ env: { DATABASE_URL: 'nonsense' } }), ['DATABASE_URL (database.url): not a URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)']);
  const mysql = problems({ env: { DATABASE_URL: 'mysql://app:hunter2@db/app' } });
  assert.match(mysql[0] ?? '', /^DATABASE_URL \(database\.url\): the scheme is "mysql:", not postgres: or postgresql:/);
  assert.ok(!mysql.join('\n').includes('hunter2'));
  const dir = mkdtempSync(join(tmpdir(), 'settings-'));
  writeFileSync(join(dir, 'url'), 'mysql://app:hunter2@db/app\n');
  const fromFile = problems({ env: { DATABASE_URL_FILE: join(dir, 'url') } });
  assert.deepEqual(fromFile, [`DATABASE_URL_FILE (database.urlFile): the file ${join(dir, 'url')}: the scheme is "mysql:", not postgres: or postgresql: (the relay works with PostgreSQL only: postgres://USER:PASSWORD@HOST:PORT/DATABASE)`]);
});

test('the broker list and the CA files are checked before connecting', () => {
  assert.deepEqual(problems({ env: { KAFKA_BROKERS: 'kafka:9092,' } }), ['KAFKA_BROKERS (kafka.brokers): "kafka:9092," has an empty entry (a stray comma?); expected HOST:PORT[,HOST:PORT...]']);
  assert.match(problems({ env: { DATABASE_SSL_CA_FILE: '/nonexistent/ca.pem' } })[0] ?? '', /^DATABASE_SSL_CA_FILE \(database\.sslCaFile\): cannot read \/nonexistent\/ca\.pem: ENOENT/);
});

test('a secret file that cannot be read names its setting', () => {
  assert.throws(() => loadSettings({ env: { KAFKA_SASL_PASSWORD_FILE: '/nonexistent/pw', KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_USERNAME: 'u' } }), /^RelayError: KAFKA_SASL_PASSWORD_FILE \(kafka\.saslPasswordFile\): cannot read \/nonexistent\/pw/);
});

test('--help lines give each setting its env var, default and accepted values; secrets show no default', async () => {
  const { describeSettings } = await import('../../../src/config/settings');
  const lines = describeSettings();
  assert.ok(lines.some((l) => /RELAY_BATCH_SIZE\s+relay\.batchSize = 1000 {3}\[whole number 1\.\.100000\]/.test(l)), lines.join('\n'));
  assert.ok(lines.some((l) => /DATABASE_URL\s+database\.url = \(secret\)/.test(l)));
  assert.ok(lines.some((l) => /RELAY_LISTEN_NOTIFY\s+relay\.listenNotify = true {3}\[true\/false \(also 1\/0, yes\/no\)\]/.test(l)));
});

test('config/settings.example.yaml passes every rule', async () => {
  const { packageRoot } = await import('../../../src/package-root');
  const settings = loadSettings({ env: {}, configFile: join(packageRoot(), 'config', 'settings.example.yaml') });
  assert.equal(settings.relay.maxInflightBatches, 3);
  assert.equal(settings.retry.jitterRatio, 0.2);
});
