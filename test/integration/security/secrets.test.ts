import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { TEST_DATABASE_URL } from '../../helpers/env';
import { consumeAll } from '../../helpers/kafka';
import { baseRelayEnv, cliPath, startRelay, usersTopicsFile } from '../../helpers/relay-process';
import { freePort, httpGet } from '../observability/support';

// No password, SASL secret or full connection string ever appears in logs, metrics, errors or
// --help: the relay runs at trace level with a known database password, publishes, fails a row, is
// scraped, and everything it printed or served is searched for it; start-up errors (an unreachable
// database, SASL credentials refused as a contradiction) and --help are searched the same way.

let db: TestDatabase;
const users = new UsersFixture('secret');
const { namespace, topic } = users;
const DB_PASSWORD = 'dionysus'; // the test database's real password, so the relay can connect
const SASL_SECRET = 'sasl-s3cret-for-test';

before(async () => {
  db = await users.setUp();
  await db.query(`INSERT INTO users VALUES (1, 'Dionysus')`);
});

after(async () => {
  await users.tearDown();
});

function assertClean(text: string, where: string): void {
  assert.ok(!text.includes(`:${DB_PASSWORD}@`), `${where} contains the database password`);
  assert.ok(!text.includes(TEST_DATABASE_URL), `${where} contains the full connection string`);
  assert.ok(!text.includes(SASL_SECRET), `${where} contains the SASL password`);
}

test('logs, metrics, errors and --help never show a secret', async () => {
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 1, event: 'user_updated', topic });
  await insertOutboxRow(db, { resourceClass: 'Ghost', resourceId: 2, event: 'ghost_updated', topic });
  const port = await freePort();
  const env = {
    ...db.relayEnv(),
    HTTP_PORT: String(port),
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'trace',
    KAFKA_LIBRDKAFKA: '{"linger.ms":1}',
  };
  const sasl = { KAFKA_SASL_USERNAME: 'relay', KAFKA_SASL_PASSWORD: SASL_SECRET };
  const file = usersTopicsFile(namespace);
  const relay = startRelay(['run', '--topics', file], env);
  await relay.waitForLog('relay running');
  await consumeAll(topic, 1);
  await relay.waitForLog('UNKNOWN_MODEL');
  const metrics = await httpGet(port, '/metrics');
  const ready = await httpGet(port, '/readyz');
  relay.kill('SIGTERM');
  assert.equal(await relay.exited, 0, relay.output());
  assertClean(relay.output(), 'the log');
  assertClean(metrics.body, '/metrics');
  assertClean(ready.body, '/readyz');

  // Errors: an unreachable database (a one-shot run fails at once; `run` would wait for it), and
  // SASL credentials without a SASL protocol (refused).
  const failing = spawnSync(process.execPath, [cliPath(), 'run', '--exit-when-idle', '--topics', file], {
    env: baseRelayEnv({ ...env, DATABASE_URL: `postgres://dionysus:${DB_PASSWORD}@127.0.0.1:1/x` }),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(failing.status, 1, failing.stderr);
  assertClean(failing.stdout + failing.stderr, 'the start-up error');
  const refused = spawnSync(process.execPath, [cliPath(), 'run', '--topics', file], { env: baseRelayEnv({ ...env, ...sasl }), encoding: 'utf8', timeout: 60_000 });
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD: SASL settings without SASL/);
  assertClean(refused.stdout + refused.stderr, 'the refused configuration');

  const help = spawnSync(process.execPath, [cliPath(), 'run', '--help'], { env: baseRelayEnv({ ...env, ...sasl }), encoding: 'utf8' });
  assertClean(help.stdout, '--help');
});
