import type { Pool } from 'pg';
import type { PgTypeInfo } from '../domain/column-types/codec';
import { RESULT_COLUMN_TYPES } from './catalog-sql';
import { prepared } from './statement';

interface TypeRow {
  oid: number;
  typname: string;
  typtype: string;
  typelem: number;
  typdelim: string;
  typbasetype: number;
  is_array: boolean;
  rngsubtype: number | null;
}

/** A result column's type as node-postgres reports it. */
export interface ResultField {
  readonly name: string;
  readonly dataTypeID: number;
  readonly dataTypeModifier: number;
}

/**
 * Reads pg_type for the types of serializer results (enums, domains, arrays and ranges have
 * per-database oids), once per oid: the loader asks at start and again only when a statement's
 * result columns change.
 */
export class TypeCatalog {
  private readonly rows = new Map<number, TypeRow>();

  constructor(private readonly pool: Pool) {}

  async describe(fields: readonly ResultField[]): Promise<PgTypeInfo[]> {
    let missing = [...new Set(fields.map((f) => f.dataTypeID))].filter((oid) => !this.rows.has(oid));
    // Element, base and range subtypes are looked up in turn (a few levels at most).
    while (missing.length > 0) {
      const result = await this.pool.query<TypeRow>(prepared(RESULT_COLUMN_TYPES, [missing]));
      for (const row of result.rows) this.rows.set(row.oid, row);
      const next = new Set<number>();
      for (const row of result.rows) {
        for (const oid of [row.is_array ? row.typelem : 0, row.typbasetype, row.rngsubtype ?? 0]) {
          if (oid !== 0 && !this.rows.has(oid)) next.add(oid);
        }
      }
      for (const oid of missing) if (!this.rows.has(oid)) this.rows.set(oid, unknownRow(oid));
      missing = [...next];
    }
    return fields.map((f) => this.info(f.dataTypeID, f.dataTypeModifier));
  }

  private info(oid: number, typmod: number): PgTypeInfo {
    const row = this.rows.get(oid) ?? unknownRow(oid);
    if (row.is_array) {
      const element = this.info(row.typelem, typmod);
      return { oid, name: row.typname, kind: 'array', element, delimiter: this.rows.get(row.typelem)?.typdelim ?? ',', typmod };
    }
    const kind = (['b', 'e', 'd', 'r', 'c', 'p', 'm'].includes(row.typtype) ? row.typtype : 'b') as PgTypeInfo['kind'];
    if (kind === 'd') return { oid, name: row.typname, kind, element: this.info(row.typbasetype, typmod), typmod };
    if (kind === 'r' && row.rngsubtype !== null) return { oid, name: row.typname, kind, element: this.info(row.rngsubtype, -1), typmod };
    return { oid, name: row.typname, kind, typmod };
  }
}

function unknownRow(oid: number): TypeRow {
  return { oid, typname: `oid ${oid}`, typtype: 'p', typelem: 0, typdelim: ',', typbasetype: 0, is_array: false, rngsubtype: null };
}
