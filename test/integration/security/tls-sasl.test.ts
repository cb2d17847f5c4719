import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Pool } from 'pg';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { assertAllPublishedCleanly, outboxRowsOf, valueText } from '../../helpers/fixtures';
import { consumeAll, uniqueNamespace } from '../../helpers/kafka';
import { runUntilIdle, startRelay, usersTopicsFile } from '../../helpers/relay-process';
import {
  SASL_MECHANISMS,
  createSecureTopic,
  createTestPki,
  startSecureKafka,
  startSecurePostgres,
  type SaslMechanism,
  type SecureKafka,
  type SecurePostgres,
  type TestPki,
} from './support';

// The security settings, end to end: the real CLI migrates and publishes through a broker of its
// own that speaks only TLS (SASL_SSL with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512; SSL) and a
// PostgreSQL cluster of its own that accepts TLS connections only, both with a CA made for this
// run; a consumer with the same security reads the messages back. Wrong credentials and untrusted
// CAs end the start at once with one clear line and exit code 2, also for a `run` that waits for
// dependencies that do not answer: waiting cannot fix these. The shared services are not used.

const SCHEMA = 'dionysus_tls';
const USERS: ReadonlyArray<[number, string]> = [
  [1, 'Ariadne'],
  [2, 'Semele'],
  [3, 'Pentheus'],
];

let root: string;
let pki: TestPki;
let kafka: SecureKafka | undefined;
let postgres: SecurePostgres | undefined;
let db: TestDatabase;
const passwordFiles = new Map<SaslMechanism, string>();

function services(): { kafka: SecureKafka; postgres: SecurePostgres } {
  if (kafka === undefined || postgres === undefined) throw new Error('services not started');
  return { kafka, postgres };
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'dionysus-tls-sasl-'));
  chmodSync(root, 0o711); // the postgres OS user must reach its folder inside
  pki = await createTestPki(join(root, 'pki'));
  // Broker and cluster start side by side; whichever started is stopped in after() even if the
  // other failed.
  const started = await Promise.allSettled([
    startSecureKafka(join(root, 'kafka'), pki).then((k) => (kafka = k)),
    startSecurePostgres(join(root, 'postgres'), pki).then((p) => (postgres = p)),
  ]);
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  const { kafka: k, postgres: pg } = services();
  for (const mechanism of SASL_MECHANISMS) {
    const file = join(root, `${mechanism}.password`);
    writeFileSync(file, `${k.users[mechanism].password}\n`, { mode: 0o600 });
    passwordFiles.set(mechanism, file);
  }
  // The test's own connection: plain pg with the CA, independent of the relay's code.
  const pool = new Pool({
    host: '127.0.0.1',
    port: pg.port,
    user: 'postgres',
    password: pg.password,
    database: 'postgres',
    ssl: { ca: readFileSync(pki.caFile, 'utf8') },
    max: 2,
    options: `-c search_path=${SCHEMA},public -c TimeZone=UTC`,
  });
  db = {
    schema: SCHEMA,
    url: pg.url({ sslmode: 'verify-full' }),
    pool,
    async query(text, values) {
      return (await pool.query(text, values)).rows;
    },
    relayEnv: () => relayEnv(saslEnv('PLAIN')),
    drop: () => pool.end(),
  };
});

after(async () => {
  await db?.drop().catch(() => undefined);
  await Promise.all([kafka?.stop(), postgres?.stop()]);
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

/** Relay env: TLS to PostgreSQL (verify-full against the test CA by default) plus the Kafka part. */
function relayEnv(kafkaEnv: Record<string, string>, database: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: services().postgres.url({ sslmode: 'verify-full' }),
    DATABASE_SSL_CA_FILE: pki.caFile,
    DATABASE_SCHEMA: SCHEMA,
    ...kafkaEnv,
    ...database,
  };
}

function saslEnv(mechanism: SaslMechanism, passwordFile = passwordFiles.get(mechanism) ?? ''): Record<string, string> {
  const { kafka: k } = services();
  return {
    KAFKA_BROKERS: k.saslSslBrokers,
    KAFKA_SECURITY_PROTOCOL: 'sasl_ssl',
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: k.users[mechanism].username,
    KAFKA_SASL_PASSWORD_FILE: passwordFile,
    KAFKA_SSL_CA_FILE: pki.caFile,
  };
}

function sslEnv(caFile = pki.caFile): Record<string, string> {
  return { KAFKA_BROKERS: services().kafka.sslBrokers, KAFKA_SECURITY_PROTOCOL: 'ssl', KAFKA_SSL_CA_FILE: caFile };
}

/** A topic of its own on the test broker with one outbox row per user; returns the topics file. */
async function pendingUsersTopic(prefix: string): Promise<{ topic: string; topicsFile: string }> {
  const namespace = uniqueNamespace(prefix);
  const topic = `${namespace}_users`;
  await createSecureTopic(services().kafka.clientConfig('ssl'), topic, 2);
  for (const [id] of USERS) await insertOutboxRow(db, { resourceClass: 'User', resourceId: id, event: 'user_updated', topic });
  return { topic, topicsFile: usersTopicsFile(namespace) };
}

/** Publishes the topic's rows with `env` and checks every row is marked and every message is in Kafka. */
async function assertPublishes(prefix: string, env: Record<string, string>, consumer: Record<string, string>): Promise<void> {
  const { topic, topicsFile } = await pendingUsersTopic(prefix);
  const run = await runUntilIdle(topicsFile, env, 30_000);
  assert.equal(run.code, 0, `relay exit code; output:\n${run.output}`);
  await assertAllPublishedCleanly(db, topic, USERS.length);
  const messages = await consumeAll(topic, USERS.length, { client: consumer, timeoutMs: 20_000, settleMs: 300 });
  assert.deepEqual(messages.map((m) => m.key).sort(), USERS.map(([id]) => `User:${id}`));
  for (const [id, name] of USERS) {
    const message = messages.find((m) => m.key === `User:${id}`);
    assert.equal(valueText(message), JSON.stringify({ message: [{ event: 'user_updated', model_name: 'User', data: [{ id, name, links: {} }] }] }));
  }
}

/**
 * A start that must fail: the reason is printed at once (well inside the 15 s connect timeout),
 * on one line with its code and no stack trace or secret; the process exits with 2 (a
 * configuration error) and nothing was published. `oneShot`: `run --exit-when-idle`, which never
 * waits; otherwise a plain `run`, which waits for dependencies that do not answer, but not for these.
 */
async function assertStartFails(
  prefix: string,
  env: Record<string, string>,
  expected: { code: 'KAFKA_REJECTED' | 'POSTGRES_REJECTED'; reason: RegExp; secrets?: string[]; oneShot?: boolean },
): Promise<string> {
  const { topic, topicsFile } = await pendingUsersTopic(prefix);
  const started = Date.now();
  const relay = startRelay(['run', ...(expected.oneShot === true ? ['--exit-when-idle'] : []), '--topics', topicsFile], env);
  const killer = setTimeout(() => relay.kill('SIGKILL'), 40_000);
  try {
    const headline = `dionysus-relay: refused by a dependency [${expected.code}]`;
    await relay.waitForLog(headline, 12_000);
    const reportedMs = Date.now() - started;
    // node-rdkafka cannot abort its connect attempt: the process may only exit once that ends.
    assert.equal(await relay.exited, 2, `relay exit code; output:\n${relay.output()}`);
    const output = relay.output();
    assert.match(output, expected.reason, output);
    assert.doesNotMatch(output, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace was printed:\n${output}`);
    for (const s of expected.secrets ?? []) assert.ok(!output.includes(s), `the output shows a secret:\n${output}`);
    assert.ok(reportedMs < 12_000, `the reason took ${reportedMs} ms`);
    const rows = await outboxRowsOf(db, topic);
    assert.deepEqual(rows.map((r) => [r.published_at, r.attempts]), USERS.map(() => [null, 0]), 'rows untouched');
    return output;
  } finally {
    clearTimeout(killer);
  }
}

test('migrate runs over TLS (sslmode=verify-full + DATABASE_SSL_CA_FILE); the cluster refuses plaintext', async () => {
  const migrate = startRelay(['migrate'], relayEnv(saslEnv('PLAIN')));
  assert.equal(await migrate.exited, 0, migrate.output());
  const tables = await db.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename = 'dionysus_outboxes'`, [SCHEMA]);
  assert.equal(tables.length, 1, 'the outbox table was created');
  await db.query(`CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL)`);
  for (const [id, name] of USERS) await db.query(`INSERT INTO users VALUES ($1, $2)`, [id, name]);

  // Every connection the cluster accepts is TLS: pg_hba.conf has hostssl lines only and there is
  // no Unix socket, so the relay's successful connections above and below were all encrypted.
  const plain = new Client({ host: '127.0.0.1', port: services().postgres.port, user: 'postgres', password: services().postgres.password, database: 'postgres', ssl: false });
  await assert.rejects(plain.connect(), /no pg_hba\.conf entry .* no encryption/);
});

for (const mechanism of SASL_MECHANISMS) {
  test(`publishes over SASL_SSL with ${mechanism}`, async () => {
    await assertPublishes(`sasl_${mechanism.toLowerCase().replace(/-/g, '')}`, relayEnv(saslEnv(mechanism)), services().kafka.clientConfig('sasl_ssl', mechanism));
  });
}

test('publishes over SSL (no SASL); PostgreSQL sslmode=verify-ca accepts a host name the certificate lacks', async () => {
  // 127.0.0.2 is not in the server certificate: verify-ca checks the chain only (libpq's meaning).
  const database = { DATABASE_URL: services().postgres.url({ host: '127.0.0.2', sslmode: 'verify-ca' }) };
  await assertPublishes('ssl', relayEnv(sslEnv(), database), services().kafka.clientConfig('ssl'));
});

test('Kafka: a wrong SASL password (each mechanism) or an untrusted CA is reported at once with the broker\'s reason', async () => {
  const wrong = join(root, 'wrong.password');
  const wrongPassword = 'not-the-password-0123';
  writeFileSync(wrong, wrongPassword, { mode: 0o600 });
  const secrets = [wrongPassword, ...SASL_MECHANISMS.map((m) => services().kafka.users[m].password), services().postgres.password];
  // Side by side: each relay then only waits for its connect attempt to end.
  await Promise.all([
    ...SASL_MECHANISMS.map((mechanism) =>
      assertStartFails(`badpw_${mechanism.toLowerCase().replace(/-/g, '')}`, relayEnv(saslEnv(mechanism, wrong)), {
        code: 'KAFKA_REJECTED',
        reason: /cannot connect to Kafka: .*SASL authentication error: Authentication failed/,
        secrets,
      }),
    ),
    assertStartFails('badkafkaca', relayEnv(sslEnv(pki.otherCaFile)), {
      code: 'KAFKA_REJECTED',
      oneShot: true,
      reason: /cannot connect to Kafka: .*SSL handshake failed: .*certificate verify failed/,
      secrets,
    }),
  ]);
});

test('PostgreSQL: an unrelated CA, or verify-full against a host name the certificate lacks, fails clearly', async () => {
  const wrongCa = await assertStartFails('badpgca', relayEnv(saslEnv('PLAIN'), { DATABASE_SSL_CA_FILE: pki.otherCaFile }), {
    code: 'POSTGRES_REJECTED',
    reason: /cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres\?sslmode=verify-full \(DATABASE_URL\): .*certificate/,
    secrets: [services().postgres.password],
  });
  assert.match(wrongCa, /DATABASE_SSL_CA_FILE/, 'the message names the setting to check');
  await assertStartFails('badpghost', relayEnv(saslEnv('PLAIN'), { DATABASE_URL: services().postgres.url({ host: '127.0.0.2', sslmode: 'verify-full' }) }), {
    code: 'POSTGRES_REJECTED',
    oneShot: true,
    reason: /cannot connect to PostgreSQL .*IP: 127\.0\.0\.2 is not in the cert's list/,
    secrets: [services().postgres.password],
  });
});
