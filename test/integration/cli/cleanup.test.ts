import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { baseRelayEnv, cliPath, runUntilIdle, writeTopicsFile } from '../../helpers/relay-process';

// `dionysus-relay cleanup --older-than 3d` deletes only published rows older than the limit, in
// batches, and never an unpublished row however old.

let db: TestDatabase;

before(async () => {
  db = await createTestDatabase('clean');
  const insert = (label: string, publishedAgo: string | null, count: number): Promise<unknown> =>
    db.query(
      `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, published_at, created_at, updated_at)
       SELECT 'User', '${label}-' || g, 'user_updated', 't',
              ${publishedAgo === null ? 'NULL' : `(now() AT TIME ZONE 'UTC') - interval '${publishedAgo}'`},
              (now() AT TIME ZONE 'UTC') - interval '30 days', now()
         FROM generate_series(1, ${count}) g`,
    );
  await insert('old', '10 days', 250);
  await insert('recent', '1 day', 40);
  await insert('pending', null, 30);
});

after(async () => {
  await db.drop();
});

test('deletes published rows older than the limit only, in batches, and reports the count', async () => {
  const r = spawnSync(process.execPath, [cliPath(), 'cleanup', '--older-than', '3d', '--batch-size', '100', '--pause', '10ms'], {
    env: baseRelayEnv(db.relayEnv()),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /deleted 100 so far\n\s+deleted 200 so far\n\s+deleted 250 so far/);
  assert.match(r.stdout, /deleted 250 published row\(s\)/);

  const rows = await db.query<{ label: string; n: number }>(
    `SELECT split_part(resource_id, '-', 1) AS label, count(*)::int AS n FROM dionysus_outboxes GROUP BY 1 ORDER BY 1`,
  );
  assert.deepEqual(rows, [
    { label: 'pending', n: 30 },
    { label: 'recent', n: 40 },
  ]);
});

test('a bad duration is a usage error naming the flag', () => {
  const r = spawnSync(process.execPath, [cliPath(), 'cleanup', '--older-than', 'three days'], {
    env: baseRelayEnv(db.relayEnv()),
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--older-than: "three days" is not a duration/);
});

test('the in-daemon schedule (RETENTION_OLDER_THAN) deletes old published rows while the relay runs', async () => {
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, published_at, created_at, updated_at)
     SELECT 'User', 'daemon-' || g, 'user_updated', 't', (now() AT TIME ZONE 'UTC') - interval '5 days',
            (now() AT TIME ZONE 'UTC') - interval '6 days', now() FROM generate_series(1, 20) g`,
  );
  const topicsFile = writeTopicsFile(`topics:\n  unrelated:\n    models:\n      User:\n        sql: SELECT id FROM (SELECT 1::bigint AS id) u WHERE id = ANY($1::bigint[])\n`);
  const run = await runUntilIdle(topicsFile, { ...db.relayEnv(), RETENTION_OLDER_THAN: '3d', RETENTION_INTERVAL: '1h' });
  assert.equal(run.code, 0, run.output);
  const [left] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dionysus_outboxes WHERE resource_id LIKE 'daemon-%'`);
  assert.equal(left?.n, 0);
  const [pending] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dionysus_outboxes WHERE published_at IS NULL`);
  assert.equal(pending?.n, 30, 'unpublished rows untouched');
});
