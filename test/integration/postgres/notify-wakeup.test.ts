import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { baseRelayEnv, cliPath, startRelay, type RelayProcess, usersTopicsFile } from '../../helpers/relay-process';
import { freePort, sample, scrape } from '../observability/support';

// With the optional insert trigger, a committed row wakes a sleeping relay at once. Publishing the
// row proves little by itself: an idle relay's pauses grow from milliseconds up to the poll
// interval, so a poll finds the row within the test's deadline even without LISTEN. The relay must
// also have counted the notification that woke it.

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
  const port = await freePort();
  const env = { ...db.relayEnv(), RELAY_POLL_INTERVAL_MS: '600000', HEALTH_LIVENESS_TIMEOUT_MS: '1200000', LOG_LEVEL: 'debug', HTTP_PORT: String(port) };
  relay = startRelay(['run', '--topics', topicsFile], env);
  await relay.waitForLog('relay running');
  // Let every worker finish its first empty round and fall asleep for the long poll interval.
  await new Promise((resolve) => setTimeout(resolve, 1000));

  await db.query(`INSERT INTO users VALUES (1, 'Dionysus')`);
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 1, event: 'user_created', topic });

  const [message] = await consumeAll(topic, 1, { timeoutMs: 30_000 });
  assert.equal(message?.key, 'User:1');
  // The notification is counted before the workers wake, so before the row can be claimed.
  const notifications = sample(await scrape(port), 'dionysus_relay_notifications_total') ?? 0;
  assert.ok(notifications >= 1, `the relay received no notification (dionysus_relay_notifications_total = ${notifications})`);
  relay.kill('SIGTERM');
  assert.equal(await relay.exited, 0, relay.output());
});
