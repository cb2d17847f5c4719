import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { PoolClient } from 'pg';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { runUntilIdle, usersTopicsFile } from '../../helpers/relay-process';
import { uniqueSuffix } from '../../helpers/env';

// The frozen-relay guard of snapshot ordering. A relay frozen past
// idle_in_transaction_session_timeout loses its claim transaction (and its resource locks), but
// messages it had queued in librdkafka are sent when it resumes. Its in-flight entry says which
// resources it locked; while that instance is alive and its claim transaction neither runs nor
// committed, other relays leave those resources pending. The frozen relay is simulated exactly as
// PostgreSQL sees one: its instance lock held by a live session, its claim transaction aborted.

let db: TestDatabase;
const users = new UsersFixture('frozen', { users: 4, outboxRows: true });
const { namespace, topic } = users;
let file: string;
let frozenInstance: PoolClient;
const instance = `frozen_${uniqueSuffix()}`;

before(async () => {
  db = await users.setUp();
  file = usersTopicsFile(namespace);
  // The "frozen" relay instance: alive (its advisory lock is held by a session that stays open).
  frozenInstance = await db.pool.connect();
  await frozenInstance.query(`SELECT pg_advisory_lock(hashtextextended('dionysus_relay_instance:' || $1, 0))`, [instance]);
});

after(async () => {
  frozenInstance.release(true);
  await users.tearDown();
});

/** The id of a transaction that ended as `ending` ('ROLLBACK': killed like a frozen relay's claim). */
async function transactionThatEnded(ending: 'ROLLBACK' | 'COMMIT'): Promise<string> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    const [row] = (await client.query<{ xid: string }>('SELECT txid_current()::text AS xid')).rows;
    await client.query(ending);
    return String(row?.xid);
  } finally {
    client.release();
  }
}

async function registerInFlight(claimXid: string, keys: readonly string[]): Promise<void> {
  await db.query(`INSERT INTO dionysus_relay_inflight (instance, row_ids, claim_xid, resource_keys) VALUES ($1, '{}', $2, $3)`, [
    instance,
    claimXid,
    keys,
  ]);
}

const env = (): Record<string, string> => ({ ...db.relayEnv(), RELAY_POLL_INTERVAL_MS: '50' });

async function publishedIds(): Promise<string[]> {
  const rows = await db.query<{ resource_id: string }>(`SELECT resource_id FROM dionysus_outboxes WHERE published_at IS NOT NULL ORDER BY resource_id`);
  return rows.map((r) => r.resource_id);
}

test('resources of a live relay whose claim was aborted are left pending until it is gone; others publish', async () => {
  // User 2: locked by the frozen relay, whose claim transaction was ended by PostgreSQL.
  await registerInFlight(await transactionThatEnded('ROLLBACK'), [`${topic}:User:2`]);
  // User 3: that relay's other batch committed: its messages were delivered, nothing to wait for.
  await registerInFlight(await transactionThatEnded('COMMIT'), [`${topic}:User:3`]);

  const first = await runUntilIdle(file, env());
  assert.equal(first.code, 0, first.output);
  assert.deepEqual(await publishedIds(), ['1', '3', '4']);
  const [held] = await db.query<{ attempts: number; error_class: string | null; failed_at: Date | null }>(
    `SELECT attempts, error_class, failed_at FROM dionysus_outboxes WHERE resource_id = '2'`,
  );
  assert.deepEqual(held, { attempts: 0, error_class: null, failed_at: null }, 'a held row is not a failure');
  assert.match(first.output, /resources held back/);

  // The frozen relay dies (or resumes and clears its entry): its lock goes, user 2 is published.
  frozenInstance.release(true);
  frozenInstance = await db.pool.connect();
  const second = await runUntilIdle(file, env());
  assert.equal(second.code, 0, second.output);
  assert.deepEqual(await publishedIds(), ['1', '2', '3', '4']);
  const messages = await consumeAll(topic, 4, { settleMs: 500 });
  assert.deepEqual(messages.map((m) => m.key).sort(), ['User:1', 'User:2', 'User:3', 'User:4']);
});

test('a resource another batch is publishing is left for a later claim, not waited for', async () => {
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 1, event: 'user_updated', topic });
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 3, event: 'user_updated', topic });
  // Another batch holds user 1: its transaction-scoped advisory lock, taken the way a relay takes it.
  const other = await db.pool.connect();
  try {
    await other.query('BEGIN');
    await other.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`${topic}:User:1`]);
    const run = await runUntilIdle(file, env());
    assert.equal(run.code, 0, run.output);
    const pending = await db.query<{ resource_id: string; attempts: number; error_class: string | null }>(
      `SELECT resource_id, attempts, error_class FROM dionysus_outboxes WHERE published_at IS NULL`,
    );
    assert.deepEqual(pending, [{ resource_id: '1', attempts: 0, error_class: null }], 'user 1 waits; user 3 was published meanwhile');
  } finally {
    await other.query('ROLLBACK');
    other.release();
  }
  const last = await runUntilIdle(file, env());
  assert.equal(last.code, 0, last.output);
  const [left] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dionysus_outboxes WHERE published_at IS NULL`);
  assert.equal(left?.n, 0);
});
