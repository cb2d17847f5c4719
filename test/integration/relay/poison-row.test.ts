import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { runUntilIdle, startRelay, usersTopicsFile } from '../../helpers/relay-process';

// A row that wedges the relay every time (its serializer hangs; a liveness probe or an operator
// kills the process) is detected from the crashes it was in flight for, published alone after the
// first crash so the other rows are not blamed, and set aside as POISON_ROW after
// RELAY_POISON_MAX_CRASHES; everything else is published.

let db: TestDatabase;
const users = new UsersFixture('poison', { users: 20, outboxRows: true });
const { namespace, topic } = users;
let file: string;

before(async () => {
  db = await users.setUp();
  file = usersTopicsFile(namespace, 'SELECT id, name, CASE WHEN id = 13 THEN pg_sleep(600)::text END AS wedge FROM users WHERE id = ANY($1::bigint[])');
});

after(async () => {
  await users.tearDown();
});

const env = (): Record<string, string> => ({ ...db.relayEnv(), RELAY_POISON_MAX_CRASHES: '2', DATABASE_STATEMENT_TIMEOUT_MS: '600000' });

type InFlightEntry = {
  readonly row_ids: string[];
  readonly resource_keys: string[];
};

/**
 * Runs a relay until its serializer hangs on user 13, then kills it the hard way. Returns the
 * in-flight entries that named user 13 while it hung: what the next relay counts as the crash, and
 * what the frozen-relay guard would hold back.
 */
async function crashOnWedge(): Promise<InFlightEntry[]> {
  const relay = startRelay(['run', '--topics', file], env());
  await relay.waitForLog('relay running');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [wedged] = await db.query<{ n: number }>(
      // Every serializer query has pg_sleep(600) in its text, and a batch of other users runs it for
      // a few milliseconds: only one still running after 2 s is the one wedged on user 13.
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE state = 'active' AND query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid() AND clock_timestamp() - query_start > interval '2 seconds'`,
    );
    if ((wedged?.n ?? 0) > 0) break;
    if (Date.now() > deadline || relay.child.exitCode !== null) throw new Error(`the relay never wedged:\n${relay.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const entries = await db.query<InFlightEntry>(
    `SELECT row_ids::text[] AS row_ids, resource_keys FROM dionysus_relay_inflight WHERE $1 = ANY(resource_keys)`,
    [`${topic}:User:13`],
  );
  relay.kill('SIGKILL');
  await relay.exited;
  // The wedged query would outlive the process until statement_timeout; end it as a crash would.
  // (pg_terminate_backend with a timeout waits until the backend is gone.)
  await db.query(`SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()`);
  return entries;
}

test('a row that keeps wedging the relay is set aside as POISON_ROW; the others publish', async () => {
  const [row13] = await db.query<{ id: string }>(`SELECT id::text FROM dionysus_outboxes WHERE resource_id = '13'`);
  const key13 = `${topic}:User:13`;
  // Crash 1: the whole batch was in flight, registered with its rows and their resources before
  // anything was loaded.
  const first = await crashOnWedge();
  assert.equal(first.length, 1, 'one in-flight entry names user 13');
  assert.ok(first[0]?.row_ids.includes(String(row13?.id)));
  assert.equal(first[0]?.resource_keys.length, first[0]?.row_ids.length, 'one resource per row');
  // Crash 2: user 13 alone (suspects are published one at a time): the entry was narrowed to its
  // row and its resource, so neither the crash count nor the guard touches the rows left pending.
  const second = await crashOnWedge();
  assert.deepEqual(second, [{ row_ids: [String(row13?.id)], resource_keys: [key13] }]);
  const last = await runUntilIdle(file, env());
  assert.equal(last.code, 0, last.output);
  assert.match(last.output, /set aside as POISON_ROW/);

  const rows = await db.query<{ resource_id: string; published: boolean; error_class: string | null; infinite: boolean }>(
    `SELECT resource_id, published_at IS NOT NULL AS published, error_class, retry_at = 'infinity' AS infinite
       FROM dionysus_outboxes ORDER BY id`,
  );
  for (const row of rows) {
    if (row.resource_id === '13') assert.deepEqual(row, { resource_id: '13', published: false, error_class: 'POISON_ROW', infinite: true });
    else assert.equal(row.published, true, `user ${row.resource_id} published`);
  }
  const messages = await consumeAll(topic, 19, { settleMs: 1000 });
  assert.ok(!messages.some((m) => m.key === 'User:13'));
  assert.equal(new Set(messages.map((m) => m.key)).size, 19);
});
