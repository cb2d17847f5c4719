import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root';
import type { BenchContext } from '../context';
import { runDrain, type DrainResult } from './drain';

/**
 * Strict ordering: the drain on a topic with `ordering: strict`, once on the gem's indexes alone and
 * once with sql/optional/strict_retry_index.sql. The rows' partition_key is the user's account
 * (5,000 accounts, so about 40 rows a key in the full backlog): each batch publishes only its keys'
 * heads, and a strict claim must find the keys held by failed rows, which without the optional index
 * means reading the topic's whole backlog on every claim.
 */
export interface StrictDrainResult {
  readonly withoutIndex: DrainResult;
  readonly withIndex: DrainResult;
}

const INDEX = 'dionysus_relay_retry_waiting_idx';

export async function runStrictDrains(ctx: BenchContext, rows: number): Promise<StrictDrainResult> {
  // The fixture's table must not carry the index from an interrupted earlier run.
  await ctx.pool.query(`DROP INDEX IF EXISTS ${INDEX}`);
  const withoutIndex = await runDrain(ctx, { label: 'strict', rows, relays: 1, verify: true, ordering: 'strict' });
  // The project's own file, on the bench schema (the harness pool's search_path).
  await ctx.pool.query(readFileSync(join(packageRoot(), 'sql', 'optional', 'strict_retry_index.sql'), 'utf8'));
  try {
    const withIndex = await runDrain(ctx, { label: 'strict-indexed', rows, relays: 1, verify: true, ordering: 'strict' });
    return { withoutIndex, withIndex };
  } finally {
    // The other scenarios measure the gem's schema as applications have it.
    await ctx.pool.query(`DROP INDEX IF EXISTS ${INDEX}`);
  }
}
