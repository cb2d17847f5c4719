import type { CustomTypesConfig } from 'pg';
import { types } from 'pg';
import { parse as parseArray } from 'postgres-array';
import { formatPgNumeric, rubyFloatJson } from '../domain/ruby-numbers';
import {
  formatPgDate,
  formatPgTimestamp,
  formatPgTimestamptz,
  normalizeNestedJson,
} from '../domain/rails-json';

/**
 * Text parsers that turn Postgres values straight into what Rails' JSON encoder would print, so
 * message building never re-parses: timestamps become their ISO 8601 millisecond strings, dates
 * stay `YYYY-MM-DD`, int8 becomes bigint (printed as a JSON number, exact beyond 2^53), numeric
 * becomes Rails' BigDecimal string and floats a preformatted Ruby Float (see ruby-numbers.ts). Relay connections run with TimeZone=UTC,
 * which is also how `timestamp without time zone` values are meant (the gem writes UTC).
 */
const OID = {
  int8: 20,
  float4: 700,
  float8: 701,
  numeric: 1700,
  float4Array: 1021,
  float8Array: 1022,
  json: 114,
  jsonb: 3802,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  int8Array: 1016,
  numericArray: 1231,
  dateArray: 1182,
  timestampArray: 1115,
  timestamptzArray: 1185,
} as const;

const parsers = new Map<number, (text: string) => unknown>([
  [OID.int8, (t) => BigInt(t)],
  [OID.float4, (t) => rubyFloatJson(Number(t))],
  [OID.float8, (t) => rubyFloatJson(Number(t))],
  [OID.numeric, formatPgNumeric],
  [OID.float4Array, (t) => parseArray(t, (v) => rubyFloatJson(Number(v)))],
  [OID.float8Array, (t) => parseArray(t, (v) => rubyFloatJson(Number(v)))],
  [OID.json, (t) => normalizeNestedJson(JSON.parse(t))],
  [OID.jsonb, (t) => normalizeNestedJson(JSON.parse(t))],
  [OID.date, formatPgDate],
  [OID.timestamp, formatPgTimestamp],
  [OID.timestamptz, formatPgTimestamptz],
  [OID.int8Array, (t) => parseArray(t, (v) => BigInt(v))],
  [OID.numericArray, (t) => parseArray(t, formatPgNumeric)],
  [OID.dateArray, (t) => parseArray(t, formatPgDate)],
  [OID.timestampArray, (t) => parseArray(t, formatPgTimestamp)],
  [OID.timestamptzArray, (t) => parseArray(t, formatPgTimestamptz)],
]);

export const JSON_TYPE_OIDS: ReadonlySet<number> = new Set([OID.json, OID.jsonb]);

/** Per-pool type configuration (never the global pg.types, so nothing else in the process changes). */
export const relayTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    const own = format !== 'binary' ? parsers.get(oid) : undefined;
    return own ?? types.getTypeParser(oid, format ?? 'text');
  }) as CustomTypesConfig['getTypeParser'],
};
