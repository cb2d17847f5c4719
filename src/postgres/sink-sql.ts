import { timestampKind, type ApplyTarget, type ColumnInfo } from '../sink/apply-target';

/**
 * Every statement of the sink, built per table and per set of columns (and cached by the caller
 * as named prepared statements). Rows travel as one jsonb array parameter: per row the attribute
 * hash `d` (what synced_data stores, and where most columns take their value from, under the same
 * name) and `v`, the columns whose value is not d's (renamed attributes, custom synced_* names, the
 * remote id under another name, a restore's NULL, a sideload's foreign key). jsonb_populate_record
 * casts each value to its column's type as PostgreSQL's input functions do (JSON arrays to arrays,
 * strings to timestamps, numerics exactly): once over d, then over v with d's record as the base,
 * so v's keys win. (Merging d and v into one jsonb first cost the statement 40% more PostgreSQL CPU
 * per row; docs/sink-benchmarks.md.) Each statement returns only the rows it did NOT apply,
 * with a status: 's' stale (the ordering guard refused it), 'l' lost (a concurrent writer changed
 * the row between this statement's snapshot and its write: the caller retries the batch).
 */

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table` or `table`, each part quoted. */
export function quoteTable(table: string): string {
  return table.split('.').map(quoteIdent).join('.');
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** A received value as the column's type. */
function valueExpression(column: ColumnInfo, target: ApplyTarget): string {
  if (column.name === target.dataColumn) return column.type === 'jsonb' ? 'x.d' : `CAST(x.d AS ${column.type})`;
  // Rails may send times with an offset; a zone-less column holds UTC (as ActiveRecord writes it),
  // where a plain cast would drop the offset.
  if (timestampKind(column) === 'timestamp') {
    const key = literal(column.name);
    return `((CASE WHEN x.v ? ${key} THEN x.v->>${key} ELSE x.d->>${key} END)::timestamptz AT TIME ZONE 'UTC')`;
  }
  return `(x.r).${quoteIdent(column.name)}`;
}

/**
 * The ordering guard (contract §5 step 3), inside the statement so that it is evaluated against
 * the row as it is when written (a concurrent update re-checks it): apply when the incoming time
 * or the stored one is missing, or when incoming >= stored (equal applies: redelivery is harmless).
 */
function guard(target: ApplyTarget): string {
  const column = target.guardColumn;
  if (column === undefined) return 'true';
  const stored = `t.${quoteIdent(column.name)}`;
  const kind = timestampKind(column);
  const incoming = kind === 'timestamp' ? `(x.t::timestamptz AT TIME ZONE 'UTC')` : kind === 'timestamptz' ? 'x.t::timestamptz' : `CAST(x.t AS ${column.type})`;
  return `(x.t IS NULL OR ${stored} IS NULL OR ${incoming} >= ${stored})`;
}

function idOf(target: ApplyTarget): string {
  return quoteIdent(target.idColumn);
}

/**
 * Rows: $1 = [{o: ordinal, t: incoming time | null, d: attribute hash, v: {column: value}}]; r =
 * the row as the table's type (v over d), d = the hash (the data column's value, and where a
 * timestamp column's text is read from when v has no value for it).
 */
function input(target: ApplyTarget): string {
  const table = quoteTable(target.table);
  return `x AS (
  SELECT (e.value->>'o')::int AS o, e.value->>'t' AS t, COALESCE(e.value->'d', '{}'::jsonb) AS d, e.value->'v' AS v,
         jsonb_populate_record(jsonb_populate_record(NULL::${table}, COALESCE(e.value->'d', '{}'::jsonb)), e.value->'v') AS r
    FROM jsonb_array_elements($1::jsonb) AS e
)`;
}

/**
 * Insert-or-update of records with the same columns. Rows that exist (in this statement's
 * snapshot) are updated where the guard allows; the others are inserted, and an id inserted
 * meanwhile by another transaction is reported lost rather than overwritten unguarded.
 * `cancelNow` sets the soft-delete column to now(), keeping a time already stored (redelivery of
 * a destroy does not move it).
 */
export function upsertStatement(target: ApplyTarget, columns: readonly string[], cancelNow: boolean): string {
  const table = quoteTable(target.table);
  const id = idOf(target);
  const infos = columns.map((name) => target.columns.get(name) as ColumnInfo);
  const sets = infos.filter((c) => c.name !== target.idColumn).map((c) => `${quoteIdent(c.name)} = ${valueExpression(c, target)}`);
  const insertColumns = infos.map((c) => quoteIdent(c.name));
  const insertValues = infos.map((c) => valueExpression(c, target));
  const canceled = target.canceledColumn;
  if (cancelNow && canceled !== undefined) {
    sets.push(`${quoteIdent(canceled)} = COALESCE(t.${quoteIdent(canceled)}, now())`);
    insertColumns.push(quoteIdent(canceled));
    insertValues.push('now()');
  }
  return `WITH ${input(target)},
existing AS MATERIALIZED (
  SELECT x.o, ${guard(target)} AS fresh FROM x JOIN ${table} AS t ON t.${id} = (x.r).${id}
),
updated AS (
  UPDATE ${table} AS t SET ${sets.length > 0 ? sets.join(', ') : `${id} = t.${id}`}
    FROM x
   WHERE t.${id} = (x.r).${id} AND ${guard(target)}
  RETURNING x.o
),
inserted AS (
  INSERT INTO ${table} AS t (${insertColumns.join(', ')})
  SELECT ${insertValues.join(', ')} FROM x WHERE NOT EXISTS (SELECT 1 FROM existing e WHERE e.o = x.o)
  ON CONFLICT (${id}) DO NOTHING
  RETURNING t.${id} AS id
)
SELECT x.o, CASE WHEN e.fresh IS FALSE THEN 's' ELSE 'l' END AS status
  FROM x LEFT JOIN existing e ON e.o = x.o
 WHERE NOT EXISTS (SELECT 1 FROM updated u WHERE u.o = x.o)
   AND NOT EXISTS (SELECT 1 FROM inserted i WHERE i.id = (x.r).${id})`;
}

/**
 * Deletes rows where the guard allows (`*_destroyed` with the delete strategy). A row that does
 * not exist counts as applied: there is nothing to delete, and its sideloads still apply.
 */
export function deleteStatement(target: ApplyTarget): string {
  const table = quoteTable(target.table);
  const id = idOf(target);
  return `WITH ${input(target)},
existing AS MATERIALIZED (
  SELECT x.o, ${guard(target)} AS fresh FROM x JOIN ${table} AS t ON t.${id} = (x.r).${id}
),
deleted AS (
  DELETE FROM ${table} AS t USING x WHERE t.${id} = (x.r).${id} AND ${guard(target)}
  RETURNING x.o
)
SELECT e.o, CASE WHEN e.fresh IS FALSE THEN 's' ELSE 'l' END AS status
  FROM existing e
 WHERE NOT EXISTS (SELECT 1 FROM deleted d WHERE d.o = e.o)`;
}

/**
 * Prunes the local records of parents that their payload no longer lists: records of the related
 * table whose foreign key holds a parent's synced_id, except the listed ones ($1: [{p: parent id,
 * s: the prune's position, k: [ids]}]) and those the batch writes after the prune ($2: [{i: id,
 * s: position}]). Returns the ids removed or cancelled. Needs an index on the foreign key to stay
 * cheap (check says so).
 */
export function pruneStatement(target: ApplyTarget, foreignKey: ColumnInfo, mode: 'delete' | 'cancel'): string {
  const table = quoteTable(target.table);
  const id = idOf(target);
  const fk = quoteIdent(foreignKey.name);
  const idType = (target.columns.get(target.idColumn) as ColumnInfo).type;
  const canceled = target.canceledColumn === undefined ? undefined : quoteIdent(target.canceledColumn);
  const head = `WITH p AS (
  SELECT (e.value->>'s')::int AS s, CAST(e.value->>'p' AS ${foreignKey.type}) AS parent, e.value->'k' AS keep
    FROM jsonb_array_elements($1::jsonb) AS e
),
w AS (
  SELECT (e.value->>'s')::int AS s, CAST(e.value->>'i' AS ${idType}) AS id FROM jsonb_array_elements($2::jsonb) AS e
)`;
  const where = `t.${fk} = p.parent
   AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(p.keep) AS k WHERE CAST(k AS ${idType}) = t.${id})
   AND NOT EXISTS (SELECT 1 FROM w WHERE w.id = t.${id} AND w.s > p.s)`;
  if (mode === 'cancel' && canceled !== undefined) {
    return `${head}
UPDATE ${table} AS t SET ${canceled} = now() FROM p
 WHERE ${where} AND t.${canceled} IS NULL
RETURNING t.${id} AS id`;
  }
  return `${head}
DELETE FROM ${table} AS t USING p
 WHERE ${where}
RETURNING t.${id} AS id`;
}

/**
 * Events other than created/updated/destroyed, for the application to react to. The unique key
 * (topic, partition, offset, event_index) makes a redelivered message a no-op.
 */
export function inboxStatement(table: string): string {
  return `INSERT INTO ${quoteTable(table)} (topic, "partition", "offset", event_index, message_key, event_name, model_name, data)
SELECT r.topic, r.p, r.off, r.ei, r.k, r.e, r.m, r.d
  FROM jsonb_to_recordset($1::jsonb) AS r(topic text, p int, off bigint, ei int, k text, e text, m text, d jsonb)
ON CONFLICT (topic, "partition", "offset", event_index) DO NOTHING`;
}

/**
 * One partition's batches apply one after another, even across sink processes (a rebalance can
 * leave a revoked owner finishing its last batch while the new owner starts): the transaction
 * holds this lock until it commits, like the gem's per-key lock.
 */
export function beginWithPartitionLock(lockKey: string): string {
  // One round trip for both (simple protocol): the key is a literal of the sink's own making.
  return `BEGIN; SELECT pg_advisory_xact_lock(hashtextextended(${literal(lockKey)}, 0))`;
}
