import type { ModelMapping } from '../config/sink-types';

/**
 * What the sink knows of one synced table, read from the catalog at start: its columns and their
 * types. Decisions (which attributes have a column, which column the ordering guard reads) are
 * made from it here, without I/O.
 */
export interface ColumnInfo {
  readonly name: string;
  /** format_type() of the column, e.g. `bigint`, `timestamp(6) without time zone`, `jsonb`. */
  readonly type: string;
}

export interface TableShape {
  /** The table as configured (possibly schema-qualified). */
  readonly table: string;
  readonly columns: ReadonlyMap<string, ColumnInfo>;
}

/** A mapped model with the columns of its table resolved. */
export interface ApplyTarget {
  readonly mapping: ModelMapping;
  readonly table: string;
  readonly columns: ReadonlyMap<string, ColumnInfo>;
  /** Column holding the remote id (looked up, and set on insert). */
  readonly idColumn: string;
  /** Column receiving the whole attribute hash; undefined when the table has none. */
  readonly dataColumn: string | undefined;
  /** Soft-delete column; undefined when the table has none (then destroy deletes, and nothing restores). */
  readonly canceledColumn: string | undefined;
  /** The stored time of the ordering guard: synced_updated_at, else synced_created_at, else none. */
  readonly guardColumn: ColumnInfo | undefined;
  /** Attribute key → custom column name, for renamed synced_* timestamp columns the table has. */
  readonly timestampCopies: ReadonlyArray<readonly [string, string]>;
}

export function buildTarget(mapping: ModelMapping, shape: TableShape): ApplyTarget {
  const { columns } = shape;
  const c = mapping.columns;
  const has = (name: string): boolean => columns.has(name);
  const copies: Array<[string, string]> = [];
  for (const [key, column] of [
    ['synced_created_at', c.createdAt],
    ['synced_updated_at', c.updatedAt],
    ['synced_canceled_at', c.canceledAt],
  ] as const) {
    if (column !== key && has(column)) copies.push([key, column]);
  }
  return {
    mapping,
    table: shape.table,
    columns,
    idColumn: c.id,
    dataColumn: has(c.data) ? c.data : undefined,
    canceledColumn: has(c.canceledAt) ? c.canceledAt : undefined,
    guardColumn: columns.get(c.updatedAt) ?? columns.get(c.createdAt),
    timestampCopies: copies,
  };
}

/** The kind of timestamp a column holds, for the guard's comparison; undefined for other types. */
export function timestampKind(column: ColumnInfo): 'timestamp' | 'timestamptz' | undefined {
  if (/^timestamp(\(\d\))? with time zone$/.test(column.type)) return 'timestamptz';
  if (/^timestamp(\(\d\))?( without time zone)?$/.test(column.type)) return 'timestamp';
  return undefined;
}

/** Model (and relationship) names to their targets; `ignore: true` mappings resolve to 'ignored'. */
export function buildResolver(
  models: ReadonlyMap<string, ModelMapping>,
  shapes: ReadonlyMap<string, TableShape>,
): (name: string) => ApplyTarget | 'ignored' | undefined {
  const targets = new Map<string, ApplyTarget | 'ignored'>();
  for (const [name, mapping] of models) {
    const shape = mapping.table === undefined ? undefined : shapes.get(mapping.table);
    if (mapping.table === undefined) targets.set(name, 'ignored');
    else if (shape !== undefined) targets.set(name, buildTarget(mapping, shape));
  }
  return (name) => targets.get(name);
}
