import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { beginAndClaimText, outboxStatements } from '../../../src/postgres/outbox-sql';
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
// transaction too, on the same history: it must walk the partial index in claim order as well.
test('the strict batch\'s pending-rows statement walks the partial publishing index without sorting', async () => {
  const client = await db.pool.connect();
  try {
    // Bound: the 500th pending row's created_at, as a claim of 500 rows would give it.
    const bound = (
      await client.query<{ at: string }>(
        `SELECT to_char(created_at, 'YYYY-MM-DD"T"HH24:MI:SS.US') AS at FROM dionysus_outboxes WHERE topic = 'plan_t1' AND published_at IS NULL ORDER BY created_at OFFSET 499 LIMIT 1`,
      )
    ).rows[0]?.at;
    await client.query(statements.beginClaim);
    const result = await client.query({ text: `EXPLAIN (FORMAT JSON) ${statements.strictPending.text}`, values: ['plan_t1', bound] });
    await client.query('ROLLBACK');
    const plan = (result.rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode }> })['QUERY PLAN'][0]?.Plan;
    assert.ok(plan);
    const all = nodes(plan);
    const types = all.map((n) => n['Node Type']);
    assert.ok(all.some((n) => n['Node Type'] === 'Index Scan' && n['Index Name'] === 'index_dionysus_outboxes_publishing_idx'), `plan: ${JSON.stringify(plan)}`);
    assert.equal(all.filter((n) => n['Relation Name'] === 'dionysus_outboxes' && n['Node Type'] === 'Seq Scan').length, 0, types.join(' > '));
    assert.ok(!types.some((t) => t.includes('Sort')), `no sort: ${types.join(' > ')}`);
  } finally {
    client.release();
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
    await client.query('ROLLBACK');
    const after = await client.query<{ plan_cache_mode: string }>('SHOW plan_cache_mode');
    assert.equal(after.rows[0]?.plan_cache_mode, 'force_generic_plan', 'SET LOCAL: the session setting is back after the claim');
  } finally {
    await client.query('RESET plan_cache_mode');
    client.release();
  }
});
