import { LOCK_TABLE_SLOTS_EXPRESSION } from './lock-sql';
import type { Statement } from './statement';

/**
 * Read-only questions to the catalog: what the database offers the relay (optional columns and
 * tables, the lock table), and what `check` and genesis verify about the tables they are given. None
 * of them takes a lock beyond AccessShare, so they cannot disturb claims or marks.
 */

/** The relay's bookkeeping tables, looked up on the search_path (DATABASE_SCHEMA first). */
const attributeExists = (relation: string, column: string): string =>
  `EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(${relation}) AND attname = '${column}' AND NOT attisdropped)`;

/**
 * What this database offers, asked once at start by each component that adapts to it: $1 is the
 * quoted outbox table.
 * - changeset: the gem's optional column; without it claims read none.
 * - crash_tracking: sql/003's tables; without them crash tracking is off.
 * - frozen_relay_guard: sql/004's resource_keys; without it batches do not register their resources.
 * - relay_xids: sql/004's claim_xid, which lets the strict claim's horizon skip relay claims.
 * - lock_slots: the shared lock table the resource locks live in (lock-sql.ts lockTableUse).
 */
export const CAPABILITIES: Statement = {
  name: 'dionysus_relay_capabilities',
  text: `SELECT ${attributeExists('$1', 'changeset')} AS changeset,
                to_regclass('dionysus_relay_inflight') IS NOT NULL AND to_regclass('dionysus_relay_suspects') IS NOT NULL AS crash_tracking,
                ${attributeExists("'dionysus_relay_inflight'", 'resource_keys')} AS frozen_relay_guard,
                ${attributeExists("'dionysus_relay_inflight'", 'claim_xid')} AS relay_xids,
                ${LOCK_TABLE_SLOTS_EXPRESSION} AS lock_slots`,
};

/** `check`: the columns of table $2 in schema $1 (none when it does not exist). */
export const TABLE_COLUMNS: Statement = {
  name: 'dionysus_relay_table_columns',
  text: `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
};

/**
 * `check` and `run`: the indexes of table $2 in schema $1, with their definitions, whether each is
 * the primary key, and its size (bytes as a float, pg_relation_size reads only the catalog and the
 * file length: no index page is read).
 */
export const TABLE_INDEXES: Statement = {
  name: 'dionysus_relay_table_indexes',
  text: `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS def, x.indisprimary AS primary,
            pg_relation_size(x.indexrelid)::float8 AS bytes
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = $1 AND t.relname = $2`,
};

/**
 * `check`: pending rows per topic and class of the (quoted) outbox table, to find rows the
 * configuration cannot publish. Reads only unpublished rows (the partial publishing index).
 */
export function pendingByClass(table: string): Statement {
  return {
    name: 'dionysus_relay_pending_by_class',
    text: `SELECT topic, resource_class, count(*) AS n FROM ${table} WHERE published_at IS NULL GROUP BY 1, 2 ORDER BY 1, 2`,
  };
}

/**
 * The declared type of the `id` column of relation $1 (a view serializer, queried by that type so
 * the underlying primary-key index is usable: comparing a bigint column with text would cast every
 * row).
 */
export const ID_COLUMN_TYPE: Statement = {
  name: 'dionysus_relay_id_column_type',
  text: `SELECT format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a
        WHERE a.attrelid = to_regclass($1) AND a.attname = 'id' AND NOT a.attisdropped`,
};

/**
 * The serializer statement of a `view:` model: the (quoted) view's rows whose id is in $1, compared
 * as the id column's own type.
 */
export function viewSerializer(view: string, idType: string): string {
  return `SELECT * FROM ${view} WHERE id = ANY($1::${idType}[])`;
}

/**
 * Genesis: whether relation $1 (quoted) exists, and the types of those of the columns $2 it has
 * (one row with NULL columns when it has none of them, none at all when it does not exist).
 */
export const RELATION_COLUMNS: Statement = {
  name: 'dionysus_relay_relation_columns',
  text: `SELECT c.oid IS NOT NULL AS exists, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
         FROM (SELECT to_regclass($1) AS oid) c
         LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY($2::text[])`,
};

/**
 * `check`, in a transaction of its own that is rolled back: with sequential scans priced out, a
 * Seq Scan left in a serializer's plan means no index serves its id lookup.
 */
export const PRICE_OUT_SEQSCAN = 'SET LOCAL enable_seqscan = off';

/** The plan of a serializer statement (the user's SQL, so run unprepared). */
export function explainSerializer(sql: string): Statement {
  return { name: 'dionysus_relay_explain_serializer', text: `EXPLAIN (FORMAT JSON) ${sql}` };
}

/**
 * The serializer columns' types ($1 = type oids), so each column is written the way ActiveRecord
 * casts its type. `typinput = 'array_in'` is how ActiveRecord tells arrays apart; element, base
 * and range subtypes come back by oid and are asked for in a next round.
 */
export const RESULT_COLUMN_TYPES: Statement = {
  name: 'dionysus_relay_result_column_types',
  text: `SELECT t.oid::int AS oid, t.typname, t.typtype, t.typelem::int AS typelem, t.typdelim,
                t.typbasetype::int AS typbasetype, t.typinput = 'array_in'::regproc AS is_array,
                r.rngsubtype::int AS rngsubtype
           FROM pg_type t LEFT JOIN pg_range r ON r.rngtypid = t.oid
          WHERE t.oid = ANY($1::oid[])`,
};
