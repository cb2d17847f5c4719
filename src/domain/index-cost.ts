/**
 * What the outbox table's indexes cost each published row. A publish mark sets published_at, a
 * column the gem's indexes read, so it is never a HOT update: PostgreSQL writes a new entry into
 * every index whose definition covers the new row version, i.e. every index except those partial
 * on unpublished rows (the publishing index, the strict topics' retry-wait index). The primary key
 * is among them, but the table cannot do without it; the others are the application's choice.
 */

/**
 * CPU of the relay's PostgreSQL backends per published row of one such index, µs: the benchmark's
 * drain on the gem's eight indexes against the same drain on the publishing index alone, divided
 * by the seven indexes dropped (docs/benchmarks.md, "What the outbox schema costs").
 */
export const MEASURED_INDEX_MICROS_PER_ROW = 2.3;

export const SCHEMA_COST_DOC = 'docs/benchmarks.md#what-the-outbox-schema-costs';

export interface OutboxIndex {
  readonly name: string;
  /** pg_get_indexdef. */
  readonly def: string;
  readonly primary: boolean;
  readonly bytes: number;
}

/** Whether a publish mark leaves this index alone: partial on rows still unpublished. */
export function skippedByMarks(def: string): boolean {
  return /\bWHERE\b.*\bpublished_at IS NULL\b/.test(def) && !/\bOR\b/.test(def.slice(def.search(/\bWHERE\b/)));
}

/**
 * `check`'s note on the indexes every mark writes into, besides the primary key, largest first
 * (a wider and larger index costs more per entry), with the measured price of one. Undefined when
 * there are none.
 */
export function indexCostNote(table: string, indexes: readonly OutboxIndex[]): string | undefined {
  const costly = indexes.filter((i) => !i.primary && !skippedByMarks(i.def)).sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
  if (costly.length === 0) return undefined;
  const names = costly.map((i) => `${i.name} (${formatBytes(i.bytes)})`).join(', ');
  const total = Math.round(costly.length * MEASURED_INDEX_MICROS_PER_ROW * 10) / 10;
  return (
    `postgres: every publish mark writes into ${costly.length} index(es) of ${table} besides its primary key, largest first: ${names}. ` +
    `Each cost about ${MEASURED_INDEX_MICROS_PER_ROW} µs of PostgreSQL CPU per published row in the benchmark ` +
    `(${costly.length} × ${MEASURED_INDEX_MICROS_PER_ROW} = ${total} µs a row; ${SCHEMA_COST_DOC}): ` +
    'drop those the application does not query, or keep no history with RELAY_ON_PUBLISH=delete'
  );
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
  return `${Math.max(1, Math.round(bytes / 1024))} kB`;
}
