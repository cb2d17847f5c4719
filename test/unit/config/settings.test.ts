import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSettings } from '../../../src/config/settings';
import { RelayError } from '../../../src/errors';

test('defaults, env overrides, and dotted librdkafka names from env', () => {
  const s = loadSettings({ env: { RELAY_BATCH_SIZE: '50', KAFKA_LIBRDKAFKA: '{"linger.ms":5,"compression.type":"lz4"}' } });
  assert.equal(s.relay.batchSize, 50);
  assert.equal(s.http.port, 9394);
  assert.deepEqual(s.kafka.librdkafka, { 'linger.ms': 5, 'compression.type': 'lz4' });
});

test('a settings file may give librdkafka as a map; env wins over the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'settings-'));
  const file = join(dir, 'settings.yaml');
  writeFileSync(file, 'relay:\n  batchSize: 20\n  pollIntervalMs: 10\nkafka:\n  librdkafka:\n    linger.ms: 7\n');
  const s = loadSettings({ env: { RELAY_BATCH_SIZE: '99' }, configFile: file });
  assert.equal(s.relay.batchSize, 99);
  assert.equal(s.relay.pollIntervalMs, 10);
  assert.deepEqual(s.kafka.librdkafka, { 'linger.ms': 7 });
});

test('secrets come from *_FILE mounts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'settings-'));
  writeFileSync(join(dir, 'url'), 'postgres://u:p@db/x\n');
  const s = loadSettings({ env: { DATABASE_URL_FILE: join(dir, 'url') } });
  assert.equal(s.database.url, 'postgres://u:p@db/x');
});

test('unknown keys in a settings file and bad values name the key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'settings-'));
  const file = join(dir, 'settings.yaml');
  writeFileSync(file, 'relay:\n  batchSise: 20\n');
  assert.throws(() => loadSettings({ env: {}, configFile: file }), (err: unknown) => err instanceof RelayError && /relay\.batchSise/.test(err.message) && err.message.includes(file));
  assert.throws(() => loadSettings({ env: { KAFKA_LIBRDKAFKA: '[1]' } }), /KAFKA_LIBRDKAFKA \(kafka\.librdkafka\): must be an object/);
  assert.throws(() => loadSettings({ env: { KAFKA_LIBRDKAFKA: '{"a":{"b":1}}' } }), /a must be a string, number or boolean/);
});
