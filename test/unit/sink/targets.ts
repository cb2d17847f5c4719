import { DEFAULT_SYNCED_COLUMNS, type ModelMapping, type RelationshipConfig, type SyncedColumns } from '../../../src/config/sink-types';
import type { Resolution } from '../../../src/sink/apply-plan';
import { buildTarget, type ApplyTarget, type ColumnInfo } from '../../../src/sink/apply-target';

/** Column types by name pattern, as format_type() prints them. */
function typeOf(name: string): string {
  if (name.endsWith('_at')) return 'timestamp without time zone';
  if (name === 'synced_data') return 'jsonb';
  if (name.endsWith('_ids')) return 'bigint[]';
  if (name.endsWith('_id')) return 'bigint';
  return 'text';
}

export function target(
  name: string,
  table: string,
  columns: readonly string[],
  extra: { rename?: Record<string, string>; columns?: Partial<SyncedColumns>; relationships?: Array<Omit<RelationshipConfig, 'path'>> } = {},
): ApplyTarget {
  const mapping: ModelMapping = {
    name,
    table,
    rename: new Map(Object.entries(extra.rename ?? {})),
    columns: { ...DEFAULT_SYNCED_COLUMNS, ...extra.columns },
    relationships: new Map((extra.relationships ?? []).map((r) => [r.name, { ...r, path: `models.${name}.relationships.${r.name}` }])),
    path: `models.${name}`,
  };
  const infos = new Map<string, ColumnInfo>(columns.map((c) => [c, { name: c, type: typeOf(c) }]));
  return buildTarget(mapping, { table, columns: infos });
}

/** The usual synced table: id, synced_* columns and `name`. */
export const SYNCED = ['id', 'synced_id', 'synced_data', 'synced_created_at', 'synced_updated_at', 'synced_canceled_at', 'name'];

export function resolver(targets: Record<string, ApplyTarget | 'ignored'>): (name: string) => Resolution {
  return (name) => targets[name];
}
