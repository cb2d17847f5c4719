import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { qualifiedTable } from '../../../src/postgres/identifiers';
import type { TestDatabase } from '../../helpers/database';
import { insertOutboxRow } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { startRelay, type RelayProcess } from '../../helpers/relay-process';
import { freePort, httpGet, sample, scrape, waitFor } from '../observability/support';
import { slotHolders } from '../../faults/replica-locks';

// Active slots with real processes: a relay without a slot stands by, healthy and ready, with
// dionysus_relay_active 0; the holder whose slot connection is cut stops claiming at once; the
// slot is held again within seconds; a lock budget with no room refuses the start (exit 2).

let db: TestDatabase;
const relays: RelayProcess[] = [];
const users = new UsersFixture('slots', { users: 50 });

before(async () => {
  db = await users.setUp();
});

after(async () => {
  for (const r of relays) r.kill('SIGKILL');
  await Promise.all(relays.map((r) => r.exited));
  await users.tearDown();
});

async function started(env: Record<string, string>): Promise<{ relay: RelayProcess; port: number }> {
  const port = await freePort();
  const relay = startRelay(['run', '--topics', users.topicsFile()], { ...db.relayEnv(), HTTP_HOST: '127.0.0.1', HTTP_PORT: String(port), ...env });
  relays.push(relay);
  await relay.waitForLog('relay running');
  return { relay, port };
}

const activeOf = async (port: number): Promise<number | undefined> => sample(await scrape(port), 'dionysus_relay_active');

test('one slot, two relays: the standby is healthy and ready; a holder that loses its slot connection stops claiming, and the slot is held again', async () => {
  const env = { RELAY_ACTIVE_SLOTS: '1', HEALTH_READINESS_INTERVAL_MS: '200' };
  const a = await started(env);
  assert.match(a.relay.output(), /took an active slot: claiming/);
  const b = await started(env);
  assert.match(b.relay.output(), /every active slot is taken: standing by/);

  assert.equal(await activeOf(a.port), 1);
  assert.equal(await activeOf(b.port), 0);
  await waitFor('the standby ready', async () => ((await httpGet(b.port, '/readyz')).status === 200 ? true : undefined), { relay: b.relay });
  assert.equal((await httpGet(b.port, '/healthz')).status, 200);

  // The active relay publishes; the standby claims nothing (no batch, so no batch_size samples).
  for (let id = 1; id <= 20; id++) await insertOutboxRow(db, { resourceClass: 'User', resourceId: id, event: 'user_updated', topic: users.topic });
  await waitFor('rows published', async () => {
    const [row] = await db.query<{ n: string }>('SELECT count(*) AS n FROM dionysus_outboxes WHERE published_at IS NULL');
    return row?.n === '0' ? true : undefined;
  });
  assert.equal(sample(await scrape(b.port), 'dionysus_relay_batch_size_count') ?? 0, 0, 'the standby claimed a batch');

  // The server ends the holder's slot session: it stops claiming at once, before any poll.
  const table = qualifiedTable(db.schema, 'dionysus_outboxes');
  const [holder] = await slotHolders(db.pool, table);
  assert.ok(holder !== undefined);
  await db.query('SELECT pg_terminate_backend($1)', [holder.pid]);
  await a.relay.waitForLog('slot connection lost: stopped claiming', 10_000);
  // One of the two holds the slot again within seconds, and exactly one says it is active.
  await waitFor('the slot held again', async () => ((await slotHolders(db.pool, table)).length === 1 ? true : undefined), { timeoutMs: 10_000, intervalMs: 50 });
  await waitFor('one active relay', async () => ((await activeOf(a.port)) ?? 0) + ((await activeOf(b.port)) ?? 0) === 1 ? true : undefined, { timeoutMs: 10_000 });

  for (let id = 21; id <= 30; id++) await insertOutboxRow(db, { resourceClass: 'User', resourceId: id, event: 'user_updated', topic: users.topic });
  await waitFor('rows published after the takeover', async () => {
    const [row] = await db.query<{ n: string }>('SELECT count(*) AS n FROM dionysus_outboxes WHERE published_at IS NULL');
    return row?.n === '0' ? true : undefined;
  });
});

test('a lock budget with no room refuses the start with exit 2, naming the settings', async () => {
  const relay = startRelay(['run', '--topics', users.topicsFile()], { ...db.relayEnv(), RELAY_ACTIVE_SLOTS: '1000', RELAY_LOCK_TABLE_SHARE: '1' });
  relays.push(relay);
  assert.equal(await relay.exited, 2, relay.output());
  assert.match(relay.output(), /invalid configuration \[CONFIG_INVALID\]/);
  assert.match(relay.output(), /RELAY_LOCK_TABLE_SHARE=1% of PostgreSQL's lock table \(\d+ entries.*RELAY_ACTIVE_SLOTS=1000 active relays leaves \d+ locks per relay/);

  const contradiction = startRelay(['run', '--topics', users.topicsFile()], { ...db.relayEnv(), RELAY_LOCK_TABLE_SHARE: '30' });
  relays.push(contradiction);
  assert.equal(await contradiction.exited, 2, contradiction.output());
  assert.match(contradiction.output(), /RELAY_LOCK_TABLE_SHARE=30 has no effect with RELAY_ACTIVE_SLOTS/);
});
