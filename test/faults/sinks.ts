import type { Pool } from 'pg';
import { writeSinkFile } from '../helpers/sink';
import type { Fixture } from './fixture';
import { MODELS } from './fixture';
import type { Check } from './report';
import { isCrash, SupervisedRelay } from './relays';

/**
 * The suite's consuming application: `dionysus-relay sink` processes (one consumer group) keep a
 * synced copy of both topics in the fixture's schema, through every fault (a sink killed with -9
 * mid-batch, Kafka stopped, PostgreSQL restarted). At the end each synced row must hold its
 * resource's final version: what the sinks lost or applied out of order shows as a difference.
 */

/** Synced table of a model (`items` → `synced_items`). */
export function syncedTable(table: string): string {
  return `synced_${table}`;
}

export async function createSyncedTables(fixture: Fixture): Promise<string> {
  for (const m of MODELS) {
    await fixture.db.query(`CREATE TABLE ${syncedTable(m.table)} (
      id bigserial PRIMARY KEY,
      account_id bigint,
      version integer NOT NULL,
      synced_id bigint NOT NULL UNIQUE,
      synced_data jsonb NOT NULL,
      synced_updated_at timestamp(6))`);
  }
  const topics = MODELS.map((m) => `  ${m.topicKey}: {}`).join('\n');
  const models = MODELS.map((m) => `  ${m.model}: {table: ${syncedTable(m.table)}}`).join('\n');
  return writeSinkFile(`group_id: ${fixture.db.schema}-sinks
namespace: ${fixture.namespace}
topics:
${topics}
models:
${models}
librdkafka:
  # A killed sink's partitions move to the others after this long.
  session.timeout.ms: 6000
  heartbeat.interval.ms: 1000
`);
}

export function sinkRole(sinkFile: string): { label: string; args: readonly string[]; running: string } {
  return { label: 'sink', args: ['sink', '--sink', sinkFile], running: '"sink running"' };
}

/** Resources whose synced row is missing or not at the resource's version (0 when the sinks are in sync). */
export async function syncedBehind(db: Pool | { query: Pool['query'] }): Promise<{ behind: number; missing: number; rows: number }> {
  let behind = 0;
  let missing = 0;
  let rows = 0;
  for (const m of MODELS) {
    const result = await db.query<{ behind: number; missing: number; rows: number }>(`
      SELECT count(*) FILTER (WHERE s.synced_id IS NOT NULL AND (s.version <> r.version OR (s.synced_data->>'version')::int <> r.version))::int AS behind,
             count(*) FILTER (WHERE s.synced_id IS NULL)::int AS missing,
             (SELECT count(*) FROM ${syncedTable(m.table)})::int AS rows
        FROM ${m.table} r LEFT JOIN ${syncedTable(m.table)} s ON s.synced_id = r.id`);
    const r = result.rows[0];
    behind += r?.behind ?? 0;
    missing += r?.missing ?? 0;
    rows += r?.rows ?? 0;
  }
  return { behind, missing, rows };
}

export function sinkChecks(
  sinks: readonly SupervisedRelay[],
  synced: { behind: number; missing: number; rows: number } | undefined,
  resources: number,
): Check[] {
  const crashes = sinks.flatMap((s) => s.unexpectedExits).filter(isCrash);
  const badExits = sinks.filter((s) => (s.finalExit?.code ?? s.finalExit?.signal) !== 0);
  return [
    {
      name: 'the synced tables hold the final version of every resource (the sinks lost and regressed nothing)',
      passed: synced !== undefined && synced.behind === 0 && synced.missing === 0 && synced.rows === resources,
      detail: synced === undefined ? 'not read' : `${synced.missing} missing, ${synced.behind} behind, ${synced.rows} rows for ${resources} resources`,
    },
    { name: 'no sink exited on its own while running', passed: crashes.length === 0, detail: `${crashes.length} exits` },
    {
      name: 'every sink exits 0 on SIGTERM after the run',
      passed: badExits.length === 0,
      detail: badExits.map((s) => `${s.name}: ${s.finalExit?.code ?? s.finalExit?.signal ?? 'not running'}`).join(', '),
    },
  ];
}
