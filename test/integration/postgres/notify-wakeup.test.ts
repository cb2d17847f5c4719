import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { baseRelayEnv, cliPath, startRelay, type RelayProcess, usersTopicsFile } from '../../helpers/relay-process';

// With the optional insert trigger, a committed row wakes a sleeping relay at once. The poll
// interval is set to ten minutes, so a row published within the test's deadline can only have been
// found because of the NOTIFY.

let db: TestDatabase;
let relay: RelayProcess | undefined;
const users = new UsersFixture('notify');
const { namespace, topic } = users;

before(async () => {
  db = await users.setUp();
  const migrate = spawnSync(process.execPath, [cliPath(), 'migrate', '--with', 'notify_trigger'], {
    env: baseRelayEnv(db.relayEnv()),
    encoding: 'utf8',
  });
  assert.equal(migrate.status, 0, migrate.stderr);
  assert.match(migrate.stdout, /applied optional\/notify_trigger/);
});

after(async () => {
  relay?.kill('SIGKILL');
  await relay?.exited;
  await users.tearDown();
});

test('a committed outbox row wakes the relay through LISTEN/NOTIFY', async () => {
  const topicsFile = usersTopicsFile(namespace);
  // The liveness timeout must outlast the poll interval (a shorter one is refused as a contradiction).
  const env = { ...db.relayEnv(), RELAY_POLL_INTERVAL_MS: '600000', HEALTH_LIVENESS_TIMEOUT_MS: '1200000', LOG_LEVEL: 'debug' };
  relay = startRelay(['run', '--topics', topicsFile], env);
  await relay.waitForLog('relay running');
  // Let every worker finish its first empty round and fall asleep for the long poll interval.
  await new Promise((resolve) => setTimeout(resolve, 1000));

  await db.query(`INSERT INTO users VALUES (1, 'Dionysus')`);
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 1, event: 'user_created', topic });

  const [message] = await consumeAll(topic, 1, { timeoutMs: 30_000 });
  assert.equal(message?.key, 'User:1');
  relay.kill('SIGTERM');
  assert.equal(await relay.exited, 0, relay.output());
});
