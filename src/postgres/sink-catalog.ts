import type { Pool } from 'pg';
import { DEFAULT_SYNCED_COLUMNS, type ModelMapping, type SinkConfig } from '../config/sink-types';
import { timestampKind, type ColumnInfo, type TableShape } from '../sink/apply-target';

/**
 * What the sink reads of its tables before it consumes anything, and the checks of `check --sink`
 * (run at every start as well): tables and columns exist, the remote id has a unique index (the
 * upsert's conflict target), the guard's column is a timestamp, the inbox table has its shape.
 * Problems stop the start; notes say what a table's missing optional columns mean.
 */

/** Columns the sink may write: generated and GENERATED ALWAYS identity columns take no values. */
const COLUMNS = `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
  FROM pg_attribute a
 WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
   AND a.attgenerated = '' AND a.attidentity <> 'a'
 ORDER BY a.attnum`;

/** A unique, non-partial index whose only key is the column: what ON CONFLICT (column) needs. */
const UNIQUE_ON = `SELECT EXISTS (
  SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
   WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indisvalid AND i.indpred IS NULL
     AND i.indexprs IS NULL AND i.indnkeyatts = 1 AND a.attname = $2) AS ok`;

/** Any index whose first key is the column (pruning looks rows up by the foreign key). */
const INDEX_ON = `SELECT EXISTS (
  SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
   WHERE i.indrelid = to_regclass($1) AND a.attname = $2) AS ok`;

const INBOX_COLUMNS = ['topic', 'partition', 'offset', 'event_index', 'message_key', 'event_name', 'model_name', 'data'];

export interface SinkCatalog {
  readonly shapes: ReadonlyMap<string, TableShape>;
  readonly problems: readonly string[];
  readonly notes: readonly string[];
}

export async function readSinkCatalog(pool: Pool, config: SinkConfig): Promise<SinkCatalog> {
  const shapes = new Map<string, TableShape>();
  const problems: string[] = [];
  const notes: string[] = [];
  const file = config.file;
  for (const model of config.models.values()) {
    if (model.table === undefined || shapes.has(model.table)) continue;
    const columns = await columnsOf(pool, model.table);
    if (columns.size === 0) problems.push(`${file}: ${model.path}.table: table ${model.table} does not exist (or has no columns) in the search_path`);
    else shapes.set(model.table, { table: model.table, columns });
  }
  const softDeletes = new Set(config.topics.map((t) => t.softDelete));
  for (const model of config.models.values()) {
    const shape = model.table === undefined ? undefined : shapes.get(model.table);
    if (shape !== undefined) await checkModel(pool, config, model, shape, softDeletes.has('cancel'), { problems, notes });
  }
  if (config.inboxTable !== undefined) await checkInbox(pool, file, config.inboxTable, problems);
  return { shapes, problems, notes };
}

async function columnsOf(pool: Pool, table: string): Promise<Map<string, ColumnInfo>> {
  const result = await pool.query<ColumnInfo>(COLUMNS, [table]);
  return new Map(result.rows.map((c) => [c.name, c]));
}

async function exists(pool: Pool, statement: string, table: string, column: string): Promise<boolean> {
  const result = await pool.query<{ ok: boolean }>(statement, [table, column]);
  return result.rows[0]?.ok === true;
}

async function checkModel(
  pool: Pool,
  config: SinkConfig,
  model: ModelMapping,
  shape: TableShape,
  cancels: boolean,
  out: { problems: string[]; notes: string[] },
): Promise<void> {
  const where = `${config.file}: ${model.path}`;
  const table = shape.table;
  const c = model.columns;
  const has = (name: string): boolean => shape.columns.has(name);
  if (!has(c.id)) out.problems.push(`${where}: table ${table} has no column ${c.id} (the remote id)`);
  else if (!(await exists(pool, UNIQUE_ON, table, c.id))) {
    out.problems.push(`${where}: ${table}.${c.id} needs a unique index of its own (CREATE UNIQUE INDEX ON ${table} (${c.id})): the sink upserts on it`);
  }
  for (const [key, column] of [
    ['synced_data', c.data],
    ['synced_created_at', c.createdAt],
    ['synced_updated_at', c.updatedAt],
    ['synced_canceled_at', c.canceledAt],
  ] as const) {
    const custom = column !== DEFAULT_SYNCED_COLUMNS[fieldOf(key)];
    if (custom && !has(column)) out.problems.push(`${where}.columns.${key}: table ${table} has no column ${column}`);
  }
  const guard = shape.columns.get(c.updatedAt) ?? shape.columns.get(c.createdAt);
  if (guard === undefined) out.notes.push(`${table}: no ${c.updatedAt} or ${c.createdAt} column: every message applies (no ordering guard)`);
  else if (timestampKind(guard) === undefined) out.problems.push(`${where}: ${table}.${guard.name} is ${guard.type}; the ordering guard needs a timestamp column`);
  if (!has(c.data)) out.notes.push(`${table}: no ${c.data} column: the received attributes are not kept whole`);
  if (!has(c.canceledAt) && cancels) out.notes.push(`${table}: no ${c.canceledAt} column: *_destroyed deletes its rows (nothing to cancel), and nothing is restored`);
  for (const [remote, local] of model.rename) {
    if (!has(local)) out.problems.push(`${where}.rename.${remote}: table ${table} has no column ${local}`);
  }
  for (const rel of model.relationships.values()) {
    if (rel.foreignKey === undefined) continue;
    const related = config.models.get(rel.name)?.table;
    if (related === undefined) continue;
    const relatedColumns = await columnsOf(pool, related);
    if (relatedColumns.size === 0) continue; // reported with its own model
    if (!relatedColumns.has(rel.foreignKey)) out.problems.push(`${config.file}: ${rel.path}.foreign_key: table ${related} has no column ${rel.foreignKey}`);
    else if (rel.prune !== 'none' && !(await exists(pool, INDEX_ON, related, rel.foreignKey))) {
      out.notes.push(`${related}: no index on ${rel.foreignKey}: pruning ${model.name}.${rel.name} reads the whole table each time`);
    }
  }
}

function fieldOf(key: 'synced_data' | 'synced_created_at' | 'synced_updated_at' | 'synced_canceled_at'): keyof typeof DEFAULT_SYNCED_COLUMNS {
  return ({ synced_data: 'data', synced_created_at: 'createdAt', synced_updated_at: 'updatedAt', synced_canceled_at: 'canceledAt' } as const)[key];
}

async function checkInbox(pool: Pool, file: string, table: string, problems: string[]): Promise<void> {
  const columns = await columnsOf(pool, table);
  if (columns.size === 0) {
    problems.push(`${file}: inbox.table: table ${table} does not exist (sql/sink/dionysus_sink_inbox.sql creates it)`);
    return;
  }
  const missing = INBOX_COLUMNS.filter((c) => !columns.has(c));
  if (missing.length > 0) problems.push(`${file}: inbox.table: table ${table} lacks column(s) ${missing.join(', ')} (see sql/sink/dionysus_sink_inbox.sql)`);
}
