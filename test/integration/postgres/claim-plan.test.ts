import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { migrate } from '../../../src/postgres/migrator';
import { beginAndClaimText } from '../../../src/postgres/claim-sql';
import { outboxStatements } from '../../../src/postgres/outbox-sql';
import { packageRoot } from '../../../src/package-root';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';

// The claim must walk the partial publishing index and stop after the batch, however large the
// published history and whatever the planner's statistics say about the gem's seven other indexes.
// This test fails if the plan regresses to a sequential scan, another index, or a sort.

let db: TestDatabase;
const HISTORY = 300_000;

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

before(async () => {
  db = await createTestDatabase('plan');
  // A large published history spread over three topics, then a backlog in one of them; the
  // history makes index_dionysus_outboxes_on_topic and ..._on_created_at look attractive.
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, published_at, created_at, updated_at)
     SELECT 'User', g::text, 'user_updated', 'plan_t' || (g % 3),
            now() - interval '1 day' + g * interval '1 ms', now() - interval '2 days' + g * interval '1 ms', now()
       FROM generate_series(1, ${HISTORY}) g`,
  );
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
     SELECT 'User', g::text, 'user_updated', 'plan_t1', now() AT TIME ZONE 'UTC', now() FROM generate_series(1, 5000) g`,
  );
  await db.query('ANALYZE dionysus_outboxes');
});

after(async () => {
  await db.drop();
});

const statements = outboxStatements('dionysus_outboxes');
const withRelayXids = outboxStatements('dionysus_outboxes', 'mark', { relayXids: true }).claims;
const CLAIMS = [
  ...Object.entries(statements.claims),
  ['strict (horizon by relay xids)', withRelayXids.strict] as const,
  ['strictWithChangeset (horizon by relay xids)', withRelayXids.strictWithChangeset] as const,
];

for (const [kind, claim] of CLAIMS) {
  test(`the ${kind} claim walks the partial publishing index without sorting`, async () => {
    const client = await db.pool.connect();
    try {
      // Exactly what the relay sends: its claim transaction's settings, then the claim with its
      // values written in (beginAndClaimText).
      const sent = beginAndClaimText(statements.beginClaim, claim, { topic: 'plan_t1', delayMs: 0, limit: 500, changesetValues: [] });
      assert.ok(sent.startsWith(`${statements.beginClaim}; `));
      await client.query(statements.beginClaim);
      const result = await client.query(`EXPLAIN (FORMAT JSON) ${sent.slice(statements.beginClaim.length + 2)}`);
      await client.query('ROLLBACK');
      const plan = (result.rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode }> })['QUERY PLAN'][0]?.Plan;
      assert.ok(plan);
      const all = nodes(plan);
      const types = all.map((n) => n['Node Type']);
      assert.ok(
        all.some((n) => n['Node Type'] === 'Index Scan' && n['Index Name'] === 'index_dionysus_outboxes_publishing_idx'),
        `plan: ${JSON.stringify(plan)}`,
      );
      // (The strict claim's horizon may scan dionysus_relay_inflight, one row per batch in flight.)
      const outboxSeqScans = all.filter((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] === 'dionysus_outboxes');
      assert.equal(outboxSeqScans.length, 0, `no sequential scan of the outbox: ${types.join(' > ')}`);
      assert.ok(!types.some((t) => t.includes('Sort')), `no sort: ${types.join(' > ')}`);
      assert.ok(!types.includes('Bitmap Heap Scan'), `no bitmap scan: ${types.join(' > ')}`);
    } finally {
      client.release();
    }
  });
}

// A strict batch's list of pending rows up to its newest row (strictPending) runs in the claim
// transaction too and must walk the partial index in claim order as well. Unlike the claim it has
// no LIMIT, so it pays for every row its plan reads: on the benchmark's table the gem's created_at
// index, which reads the whole published history up to the bound, came out only slightly dearer
// than the partial index (costs 66k against 52k), and statistics taken during a drain tipped it
// over (250-350 ms a batch instead of 2-5 ms). This table has that shape: a long history, its
// topics interleaved, older than a backlog spread over minutes.
test('the strict batch\'s pending-rows statement walks the partial publishing index, on a history that tempts the created_at index', async () => {
  const shaped = await createTestDatabase('plan_strict');
  const client = await shaped.pool.connect();
  try {
    await shaped.query(
      `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, published_at, created_at, updated_at)
       SELECT 'User', g::text, 'user_updated', 'plan_t' || (g % 4),
              now() - interval '30 days' + g * interval '8 s' + interval '1 s', now() - interval '30 days' + g * interval '8 s', now()
         FROM generate_series(1, ${HISTORY}) g`,
    );
    await shaped.query(
      `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
       SELECT 'User', g::text, 'user_updated', 'plan_t1', now() AT TIME ZONE 'UTC' - interval '5 minutes' + g * interval '15 ms', now()
         FROM generate_series(1, 20000) g`,
    );
    await shaped.query('ANALYZE dionysus_outboxes');
    // Bound: the 1000th pending row's created_at, as a claim of 1000 rows would give it.
    const bound = (
      await client.query<{ at: string }>(
        `SELECT to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at FROM dionysus_outboxes WHERE topic = 'plan_t1' AND published_at IS NULL ORDER BY created_at OFFSET 999 LIMIT 1`,
      )
    ).rows[0]?.at;
    await client.query(statements.beginClaim);
    const result = await client.query({ text: `EXPLAIN (FORMAT JSON) ${statements.strictPending.text}`, values: ['plan_t1', bound] });
    await client.query('ROLLBACK');
    const plan = (result.rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode }> })['QUERY PLAN'][0]?.Plan;
    assert.ok(plan);
    const all = nodes(plan);
    const types = all.map((n) => n['Node Type']);
    const indexes = all.filter((n) => n['Index Name'] !== undefined).map((n) => `${n['Node Type']} ${n['Index Name']}`);
    assert.deepEqual(indexes, ['Index Scan index_dionysus_outboxes_publishing_idx'], `plan: ${JSON.stringify(plan)}`);
    assert.equal(all.filter((n) => n['Relation Name'] === 'dionysus_outboxes' && n['Node Type'] === 'Seq Scan').length, 0, types.join(' > '));
    assert.ok(!types.some((t) => t.includes('Sort')), `no sort: ${types.join(' > ')}`);
  } finally {
    client.release();
    await shaped.drop();
  }
});

// A generic plan knows neither the topic nor the limit; with `topic = $1` bound by equality the
// gem's created_at index also gives the claim's order without a sort, and on the benchmark's 1M-row
// history PostgreSQL chose it (1.7 s per claim). Whatever the session's plan_cache_mode (a pooler or
// an ALTER ROLE may set force_generic_plan), the claim transaction must plan each claim for its values.
test('the claim transaction plans every claim with its values, whatever the session says', async () => {
  const client = await db.pool.connect();
  try {
    await client.query('SET plan_cache_mode = force_generic_plan');
    await client.query(statements.beginClaim);
    const inside = await client.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode');
    assert.equal(inside.rows[0]?.plan_cache_mode, 'force_custom_plan');
    // The priced-out scans' cost estimates would otherwise trigger JIT compilation of every statement.
    const jit = await client.query<{ jit: string }>('SHOW jit');
    assert.equal(jit.rows[0]?.jit, 'off');
    // Cached rows: the partial index's heap reads are not priced as random disk reads (strictPending's plan, above).
    const pageCost = await client.query<{ random_page_cost: string }>('SHOW random_page_cost');
    assert.equal(pageCost.rows[0]?.random_page_cost, '1.1');
    await client.query('ROLLBACK');
    const after = await client.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode');
    assert.equal(after.rows[0]?.plan_cache_mode, 'force_generic_plan', 'SET LOCAL: the session setting is back after the claim');
  } finally {
    await client.query('RESET plan_cache_mode');
    client.release();
  }
});

// Without an index on retry_at, the strict claim's held-keys check reads every pending row of the
// topic on every claim. sql/optional/strict_retry_index.sql adds a partial index on the rows that
// wait for a retry; the planner must use it (its predicate has to stay implied by the check's), and
// the claim must still skip the keys those rows hold. Runs last: it changes the shared table.
test('with the optional strict_retry_index, the strict claim finds held keys through it and still skips them', async () => {
  const result = await migrate(db.pool, join(packageRoot(), 'sql'), ['strict_retry_index']);
  assert.deepEqual(result.applied, ['optional/strict_retry_index']);
  // Ten backlog rows of plan_t1 failed and wait for their retry: their keys are held.
  const failed = await db.query<{ resource_id: string }>(
    `UPDATE dionysus_outboxes SET retry_at = now() AT TIME ZONE 'UTC' + interval '1 hour', attempts = 1
      WHERE id IN (SELECT id FROM dionysus_outboxes WHERE topic = 'plan_t1' AND published_at IS NULL ORDER BY created_at, id LIMIT 10)
      RETURNING resource_id`,
  );
  assert.equal(failed.length, 10);
  // The next rows of two held keys: a strict claim must leave them.
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
     SELECT 'User', r, 'user_updated', 'plan_t1', now() AT TIME ZONE 'UTC' - interval '1 day', now() FROM unnest($1::text[]) AS r`,
    [failed.slice(0, 2).map((r) => r.resource_id)],
  );
  await db.query('ANALYZE dionysus_outboxes');
  for (const [kind, claim] of [['strict', statements.claims.strict], ['strict (horizon by relay xids)', withRelayXids.strict]] as const) {
    const client = await db.pool.connect();
    try {
      const sent = beginAndClaimText(statements.beginClaim, claim, { topic: 'plan_t1', delayMs: 0, limit: 6000, changesetValues: [] });
      await client.query(statements.beginClaim);
      const explained = await client.query(`EXPLAIN (FORMAT JSON) ${sent.slice(statements.beginClaim.length + 2)}`);
      const claimed = await client.query<{ resource_id: string }>(sent.slice(statements.beginClaim.length + 2));
      await client.query('ROLLBACK');
      const plan = (explained.rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode }> })['QUERY PLAN'][0]?.Plan;
      assert.ok(plan);
      const indexes = nodes(plan).filter((n) => n['Index Name'] !== undefined).map((n) => `${n['Node Type']} ${n['Index Name']}`);
      assert.ok(indexes.includes('Index Scan dionysus_relay_retry_waiting_idx'), `${kind}: held keys through the optional index: ${indexes.join(', ')}`);
      assert.ok(indexes.includes('Index Scan index_dionysus_outboxes_publishing_idx'), `${kind}: claim through the publishing index: ${indexes.join(', ')}`);
      const claimedIds = new Set(claimed.rows.map((r) => r.resource_id));
      assert.equal(claimed.rows.length, 5000 - 10, `${kind}: every pending row but the held keys' (the 10 failed and the 2 newer)`);
      for (const { resource_id } of failed) assert.ok(!claimedIds.has(resource_id), `${kind}: held key User:${resource_id} not claimed`);
    } finally {
      client.release();
    }
  }
});
