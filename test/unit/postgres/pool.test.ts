import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { ConnectionOptions } from 'node:tls';
import type { ClientConfig } from 'pg';
import { RelayError } from '../../../src/errors';
import { connectError, connectionConfig, type DatabaseSettings } from '../../../src/postgres/pool';

// TLS settings of relay connections as pg finally sees them: pg lets the URL's TLS parameters
// replace an explicit `ssl` object, which used to drop DATABASE_SSL_CA_FILE whenever the URL said
// sslmode=... (the end-to-end proof is test/integration/security/tls-sasl.test.ts).

// pg's own resolution of a client config (URL parameters over explicit settings); no typings.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ConnectionParameters = require('pg/lib/connection-parameters') as new (config: ClientConfig) => { ssl: unknown; host: string; password: string };

const dir = mkdtempSync(join(tmpdir(), 'pool-test-'));
const caFile = join(dir, 'ca.pem');
const CA = '-----BEGIN CERTIFICATE-----\nnot parsed here\n-----END CERTIFICATE-----\n';
writeFileSync(caFile, CA);
after(() => rmSync(dir, { recursive: true, force: true }));

function settings(url: string, sslCaFile = caFile): DatabaseSettings {
  return { url, sslCaFile, schema: 'public', table: 'dionysus_outboxes', poolSize: 2, statementTimeoutMs: 1000, idleInTransactionTimeoutMs: 1000 };
}

function resolvedTls(url: string, sslCaFile = caFile): ConnectionOptions | boolean {
  return new ConnectionParameters(connectionConfig(settings(url, sslCaFile), 'test')).ssl as ConnectionOptions | boolean;
}

test('DATABASE_SSL_CA_FILE survives an sslmode in the URL, with full verification', () => {
  for (const sslmode of ['verify-full', 'require', 'prefer']) {
    const tls = resolvedTls(`postgres://u:p%40ss@db.example:5433/app?sslmode=${sslmode}&application_name=x`);
    assert.ok(typeof tls === 'object', sslmode);
    assert.equal(tls.ca, CA, sslmode);
    assert.equal(tls.rejectUnauthorized, true, sslmode);
    assert.equal(tls.checkServerIdentity, undefined, `${sslmode}: host name checked`);
  }
  const params = new ConnectionParameters(connectionConfig(settings('postgres://u:p%40ss@db.example:5433/app?sslmode=verify-full'), 'test'));
  assert.equal(params.host, 'db.example');
  assert.equal(params.password, 'p@ss');
});

test('sslmode=verify-ca checks the chain, not the host name (libpq)', () => {
  const tls = resolvedTls('postgres://u:p@db.example/app?sslmode=verify-ca');
  assert.ok(typeof tls === 'object');
  assert.equal(tls.ca, CA);
  assert.equal(tls.rejectUnauthorized, true);
  assert.equal(typeof tls.checkServerIdentity, 'function');
});

test('a URL without sslmode gets the CA too; without a CA file the URL decides alone', () => {
  const tls = resolvedTls('postgres://u:p@db.example/app');
  assert.ok(typeof tls === 'object');
  assert.equal(tls.ca, CA);
  assert.equal(connectionConfig(settings('postgres://u:p@db/app?sslmode=verify-full', ''), 'test').connectionString, 'postgres://u:p@db/app?sslmode=verify-full');
  assert.equal(resolvedTls('postgres://u:p@db/app', ''), false);
});

test('a CA file with sslmode=disable or no-verify is a configuration error', () => {
  for (const sslmode of ['disable', 'no-verify']) {
    assert.throws(
      () => connectionConfig(settings(`postgres://u:p@db/app?sslmode=${sslmode}`), 'test'),
      (err: unknown) => err instanceof RelayError && err.code === 'CONFIG_INVALID' && err.message.includes(`sslmode=${sslmode}`),
    );
  }
});

test('a failed first connection is POSTGRES_REJECTED when the server refuses us, POSTGRES_UNAVAILABLE when it does not answer', () => {
  const withCode = (code: string, message = 'failed'): Error => Object.assign(new Error(message), { code });
  const url = 'postgres://u:secret@db:5432/app';
  for (const code of ['28P01', '28000', '3D000', '42501', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'SELF_SIGNED_CERT_IN_CHAIN']) {
    const err = connectError(withCode(code), url);
    assert.equal(err.code, 'POSTGRES_REJECTED', code);
    assert.equal(err.retriable, false, code);
  }
  const noTls = connectError(new Error('The server does not support SSL connections'), url);
  assert.equal(noTls.code, 'POSTGRES_REJECTED');
  for (const cause of [withCode('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:5432'), withCode('57P03', 'the database system is starting up'), withCode('53300'), new Error('timeout expired'), withCode('ENOTFOUND')]) {
    const err = connectError(cause, url);
    assert.equal(err.code, 'POSTGRES_UNAVAILABLE', cause.message);
    assert.equal(err.retriable, true, cause.message);
  }
  const refused = connectError(withCode('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:5432'), url);
  assert.equal(refused.context['reason'], 'connect ECONNREFUSED 10.0.0.1:5432');
  assert.equal(refused.message, 'cannot connect to PostgreSQL at postgres://u:***@db:5432/app (DATABASE_URL): connect ECONNREFUSED 10.0.0.1:5432');
});
