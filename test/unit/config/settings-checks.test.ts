import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadSettings } from '../../../src/config/settings';
import { connectionsBesidesBatches } from '../../../src/config/settings-checks';
import { RelayError } from '../../../src/errors';

// Settings that each pass their own rule but contradict each other are refused, naming every
// setting involved with its value and origin.

function refusal(env: NodeJS.ProcessEnv, configFile?: string): string {
  try {
    loadSettings({ env, configFile });
  } catch (err) {
    assert.ok(err instanceof RelayError && err.code === 'CONFIG_INVALID', String(err));
    return err.message;
  }
  assert.fail(`accepted: ${JSON.stringify(env)}`);
}

const accepted = (env: NodeJS.ProcessEnv): void => void loadSettings({ env });

function tempFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'checks-')), name);
  writeFileSync(file, text);
  return file;
}

test('the pool holds one connection per batch in flight, 2 for loads and bookkeeping, 1 for crash tracking', () => {
  assert.equal(connectionsBesidesBatches({ relay: { poisonMaxCrashes: 3 } } as never), 3);
  assert.equal(connectionsBesidesBatches({ relay: { poisonMaxCrashes: 0 } } as never), 2);
  assert.equal(
    refusal({ DATABASE_POOL_SIZE: '4' }),
    'DATABASE_POOL_SIZE=4 is too small for RELAY_MAX_INFLIGHT_BATCHES (relay.maxInflightBatches, default 2): the relay needs one connection per batch in flight, ' +
      "plus 1 for the batches' loads, 1 for readiness and metrics queries, 1 for crash tracking, on with RELAY_POISON_MAX_CRASHES (relay.poisonMaxCrashes, default 3): 5 in all. " +
      'Raise DATABASE_POOL_SIZE to 5 or lower RELAY_MAX_INFLIGHT_BATCHES.',
  );
  accepted({ DATABASE_POOL_SIZE: '5' });
  accepted({ DATABASE_POOL_SIZE: '4', RELAY_POISON_MAX_CRASHES: '0' });
  assert.match(refusal({ RELAY_MAX_INFLIGHT_BATCHES: '9' }), /^DATABASE_POOL_SIZE \(database\.poolSize, default 10\) is too small for RELAY_MAX_INFLIGHT_BATCHES=9: .*: 12 in all\./);
  const file = tempFile('settings.yaml', 'database:\n  poolSize: 3\n');
  assert.match(refusal({ RELAY_POISON_MAX_CRASHES: '0' }, file), new RegExp(`^database\\.poolSize: 3 \\(${file}:2, env DATABASE_POOL_SIZE\\) is too small .*: 4 in all\\.`));
});

test('the liveness timeout must outlast the loop\'s pauses (idle poll, error backoff)', () => {
  assert.match(
    refusal({ RELAY_POLL_INTERVAL_MS: '600000' }),
    /^HEALTH_LIVENESS_TIMEOUT_MS \(health\.livenessTimeoutMs, default 60000\) is not longer than RELAY_POLL_INTERVAL_MS=600000: the loop may pause that long between claim attempts/,
  );
  assert.match(refusal({ HEALTH_LIVENESS_TIMEOUT_MS: '20000', RELAY_ERROR_BACKOFF_MS: '20000' }), /HEALTH_LIVENESS_TIMEOUT_MS=20000 is not longer than RELAY_ERROR_BACKOFF_MS=20000/);
  accepted({ RELAY_POLL_INTERVAL_MS: '600000', HEALTH_LIVENESS_TIMEOUT_MS: '600001' });
});

test('a retry cap below the retry base', () => {
  assert.equal(
    refusal({ RETRY_MAX_DELAY_SECONDS: '2' }),
    'RETRY_MAX_DELAY_SECONDS=2 caps the retry delay below RETRY_BASE_SECONDS (retry.baseSeconds, default 5), so the base has no effect: raise the cap or lower the base.',
  );
  accepted({ RETRY_MAX_DELAY_SECONDS: '5' });
  accepted({ RETRY_MAX_DELAY_SECONDS: '0' });
});

test('an idle-in-transaction timeout too short for the claim keep-alive (a third of it)', () => {
  assert.match(refusal({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '300' }), /^DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS=300 is too short for the claim keep-alive, which runs every third of it \(100 ms\).*Use 0 \(off\) or at least 1000\.$/);
  accepted({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '0' });
  accepted({ DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1000' });
});

test('librdkafka settings the relay takes from its own settings, and a delivery timeout under linger.ms', () => {
  const message = refusal({ KAFKA_LIBRDKAFKA: '{"bootstrap.servers":"x:1","sasl.password":"hunter2","linger.ms":5}' });
  assert.match(message, /^KAFKA_LIBRDKAFKA \(kafka\.librdkafka\) sets bootstrap\.servers, which the relay takes from KAFKA_BROKERS: set that instead\.$/m);
  assert.match(message, /sets sasl\.password, which the relay takes from KAFKA_SASL_PASSWORD \(or KAFKA_SASL_PASSWORD_FILE\)/);
  assert.ok(!message.includes('hunter2'), 'the librdkafka value is not repeated: it may hold secrets');
  assert.match(refusal({ KAFKA_LIBRDKAFKA: '{"linger.ms":50}', KAFKA_DELIVERY_TIMEOUT_MS: '50' }), /^KAFKA_DELIVERY_TIMEOUT_MS=50 must be longer than librdkafka's linger\.ms \(50\)/);
  assert.match(refusal({ KAFKA_DELIVERY_TIMEOUT_MS: '2' }), /longer than librdkafka's linger\.ms \(2\)/, 'the relay\'s own default linger.ms counts too');
  accepted({ KAFKA_LIBRDKAFKA: '{"linger.ms":50,"compression.type":"lz4"}' });
});

test('SASL: a SASL protocol needs credentials; credentials without a SASL protocol would be ignored', () => {
  assert.equal(
    refusal({ KAFKA_SECURITY_PROTOCOL: 'sasl_ssl' }),
    'KAFKA_SECURITY_PROTOCOL="sasl_ssl" needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE).',
  );
  const ignored = refusal({ KAFKA_SASL_USERNAME: 'relay', KAFKA_SASL_PASSWORD: 'hunter2', KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512' });
  assert.equal(
    ignored,
    'KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD, KAFKA_SASL_MECHANISM="SCRAM-SHA-512": SASL settings without SASL, as KAFKA_SECURITY_PROTOCOL (kafka.securityProtocol, default "plaintext") uses none. ' +
      'Set KAFKA_SECURITY_PROTOCOL to sasl_ssl or sasl_plaintext, or remove them.',
  );
  accepted({ KAFKA_SECURITY_PROTOCOL: 'sasl_plaintext', KAFKA_SASL_USERNAME: 'relay', KAFKA_SASL_PASSWORD: 'x' });
});

test('a CA file for a connection without TLS', () => {
  const ca = tempFile('ca.pem', 'not checked here');
  assert.equal(
    refusal({ KAFKA_SSL_CA_FILE: ca }),
    `KAFKA_SSL_CA_FILE=${JSON.stringify(ca)} is unused: KAFKA_SECURITY_PROTOCOL (kafka.securityProtocol, default "plaintext") has no TLS (use ssl or sasl_ssl, or remove the CA).`,
  );
  assert.equal(
    refusal({ DATABASE_SSL_CA_FILE: ca, DATABASE_URL: 'postgres://db/app?sslmode=disable' }),
    `DATABASE_SSL_CA_FILE=${JSON.stringify(ca)} is set but DATABASE_URL says sslmode=disable: remove one of them.`,
  );
  accepted({ KAFKA_SSL_CA_FILE: ca, KAFKA_SECURITY_PROTOCOL: 'ssl', DATABASE_SSL_CA_FILE: ca, DATABASE_URL: 'postgres://db/app?sslmode=verify-full' });
});

test('two sources for one secret', () => {
  const url = tempFile('url', 'postgres://db/app');
  assert.equal(refusal({ DATABASE_URL: 'postgres://other/app', DATABASE_URL_FILE: url }), 'DATABASE_URL_FILE (database.urlFile) and database.url (env DATABASE_URL) both give the database URL: keep one.');
  const password = tempFile('pw', 'x');
  const both = { KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'y', KAFKA_SASL_PASSWORD_FILE: password };
  assert.equal(refusal(both), 'KAFKA_SASL_PASSWORD_FILE (kafka.saslPasswordFile) and kafka.saslPassword (env KAFKA_SASL_PASSWORD) both give the SASL password: keep one.');
  accepted({ DATABASE_URL_FILE: url });
});

test('retention with RELAY_ON_PUBLISH=delete has nothing to delete', () => {
  assert.equal(
    refusal({ RETENTION_OLDER_THAN: '3d', RELAY_ON_PUBLISH: 'delete' }),
    'RETENTION_OLDER_THAN="3d" has nothing to delete: with RELAY_ON_PUBLISH="delete" no row stays published. Remove one of them.',
  );
  accepted({ RETENTION_OLDER_THAN: '3d' });
});

test('the defaults contradict nothing', () => {
  accepted({});
});

test('a lock table share needs a number of active slots to divide it among', () => {
  assert.equal(
    refusal({ RELAY_LOCK_TABLE_SHARE: '40' }),
    'RELAY_LOCK_TABLE_SHARE=40 has no effect with RELAY_ACTIVE_SLOTS (relay.activeSlots, default 0) (no limit on active relays): the lock table can only be shared ' +
      'among a known number of relays. Set RELAY_ACTIVE_SLOTS to the most relays that may claim at once, or remove RELAY_LOCK_TABLE_SHARE.',
  );
  accepted({ RELAY_LOCK_TABLE_SHARE: '40', RELAY_ACTIVE_SLOTS: '3' });
  accepted({ RELAY_ACTIVE_SLOTS: '3' });
});
