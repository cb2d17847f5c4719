import type { BenchContext } from '../context';
import { round } from '../stats';
import { runDrain, type DrainResult } from './drain';

/**
 * What the outbox table's indexes cost the relay: the drain on the gem's schema (eight indexes:
 * the partial publishing index and seven convenience indexes), on the same table with only the
 * publishing index (and the primary key), and with RELAY_ON_PUBLISH=delete on the gem's schema.
 * A publish mark sets published_at, which the publishing index's predicate and the gem's
 * published_at indexes read, so no mark is a HOT update: each writes a new entry into every index.
 * The difference between the first two drains in the CPU of the relay's own backends, divided by
 * the convenience indexes dropped, is the mean price of one such index per published row.
 */
export interface SchemaCostResult {
  readonly gemIndexes: DrainResult;
  readonly publishingIndexOnly: DrainResult;
  readonly onPublishDelete: DrainResult;
  /** The indexes dropped for the second drain (every index but the primary key and the publishing index). */
  readonly droppedIndexes: readonly string[];
  /** All-PostgreSQL CPU (backends, WAL writer, checkpointer, autovacuum) per published row, µs. */
  readonly postgresCpuMicrosPerRow: { gemIndexes: number; publishingIndexOnly: number; onPublishDelete: number };
  /** The relay's own backends' CPU per row, µs. */
  readonly relayPostgresCpuMicrosPerRow: { gemIndexes: number; publishingIndexOnly: number; onPublishDelete: number };
  /**
   * (gem − publishing only) / dropped indexes, CPU of the relay's own backends per row, µs: the
   * backends that write the marks, measured apart from any other client of the server (the
   * all-PostgreSQL figures also move with whatever else the server does meanwhile).
   */
  readonly perIndexMicrosPerRow: number;
}

const PUBLISHING_INDEX = 'index_dionysus_outboxes_publishing_idx';

export async function runSchemaCost(ctx: BenchContext, rows: number): Promise<SchemaCostResult> {
  const gemIndexes = await runDrain(ctx, { label: 'schema-gem', rows, relays: 1, verify: false });
  const onPublishDelete = await runDrain(ctx, { label: 'schema-delete', rows, relays: 1, verify: false, env: { RELAY_ON_PUBLISH: 'delete' } });
  const { rows: indexes } = await ctx.pool.query<{ name: string; def: string }>(
    `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE x.indrelid = 'dionysus_outboxes'::regclass AND NOT x.indisprimary AND i.relname <> $1
      ORDER BY i.relname`,
    [PUBLISHING_INDEX],
  );
  ctx.log(`schema-cost: dropping ${indexes.length} indexes for the drain on the publishing index alone`);
  for (const index of indexes) await ctx.pool.query(`DROP INDEX "${index.name}"`);
  let publishingIndexOnly: DrainResult;
  try {
    publishingIndexOnly = await runDrain(ctx, { label: 'schema-publishing-only', rows, relays: 1, verify: false });
  } finally {
    // The other scenarios measure the gem's schema as applications have it.
    ctx.log(`schema-cost: recreating ${indexes.length} indexes`);
    for (const index of indexes) await ctx.pool.query(index.def);
  }
  const pg = (d: DrainResult): number => round((d.cpu.postgres / d.rows) * 1e6, 1);
  const own = (d: DrainResult): number => round(d.relayPostgresCpuSecondsPer1000Rows * 1000, 1);
  const result: SchemaCostResult = {
    gemIndexes,
    publishingIndexOnly,
    onPublishDelete,
    droppedIndexes: indexes.map((i) => i.name),
    postgresCpuMicrosPerRow: { gemIndexes: pg(gemIndexes), publishingIndexOnly: pg(publishingIndexOnly), onPublishDelete: pg(onPublishDelete) },
    relayPostgresCpuMicrosPerRow: { gemIndexes: own(gemIndexes), publishingIndexOnly: own(publishingIndexOnly), onPublishDelete: own(onPublishDelete) },
    perIndexMicrosPerRow: indexes.length === 0 ? NaN : round((own(gemIndexes) - own(publishingIndexOnly)) / indexes.length, 1),
  };
  ctx.log(
    `schema-cost: relay backends µs/row ${result.relayPostgresCpuMicrosPerRow.gemIndexes} (gem's indexes), ${result.relayPostgresCpuMicrosPerRow.publishingIndexOnly} (publishing index only), ` +
      `${result.relayPostgresCpuMicrosPerRow.onPublishDelete} (on_publish delete); ${result.perIndexMicrosPerRow} µs/row per convenience index`,
  );
  return result;
}
