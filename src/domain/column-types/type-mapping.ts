// Which codec a result column gets: the mapping of ActiveRecord 6.1's PostgreSQL adapter
// (initialize_type_map plus the enum, domain, array and range types it loads from pg_type).
// A type it does not map is read by Rails as PostgreSQL's text, so the relay does the same; a
// type the relay cannot reproduce is refused with the reason, never guessed.
import type { ColumnCodec, PgTypeInfo } from './codec';
import {
  booleanCodec,
  byteaCodec,
  dateCodec,
  decimalCodec,
  floatCodec,
  integerCodec,
  intervalCodec,
  ipCodec,
  moneyCodec,
  pointCodec,
  scaleZeroDecimalCodec,
  textCodec,
  timeCodec,
  timestampCodec,
} from './scalar-codecs';
import { arrayCodec, hstoreCodec, jsonCodec, rangeCodec } from './structured-codecs';

export type CodecChoice = { readonly codec: ColumnCodec } | { readonly refused: string };

const STRING_TYPES = [
  'text', 'varchar', 'char', 'bpchar', 'name', 'citext', 'ltree', 'xml', 'tsvector', 'macaddr',
  'line', 'lseg', 'box', 'path', 'polygon', 'circle', 'bit', 'varbit',
];

const BY_NAME: ReadonlyMap<string, ColumnCodec> = new Map<string, ColumnCodec>([
  ...['int2', 'int4', 'int8', 'oid'].map((n): [string, ColumnCodec] => [n, integerCodec(n)]),
  ...['float4', 'float8'].map((n): [string, ColumnCodec] => [n, floatCodec(n)]),
  ...STRING_TYPES.map((n): [string, ColumnCodec] => [n, textCodec(n, true)]),
  ['uuid', textCodec('uuid', true, true)],
  ['bool', booleanCodec],
  ['money', moneyCodec],
  ['date', dateCodec],
  ['timestamp', timestampCodec('timestamp')],
  ['timestamptz', timestampCodec('timestamptz')],
  ['time', timeCodec],
  ['interval', intervalCodec],
  ['json', jsonCodec('json')],
  ['jsonb', jsonCodec('jsonb')],
  ['hstore', hstoreCodec],
  ['inet', ipCodec('inet')],
  ['cidr', ipCodec('cidr')],
  ['point', pointCodec],
  ['bytea', byteaCodec],
]);

/** numeric(p,0): ActiveRecord's "decimal without scale" (an Integer). */
function scaleIsZero(typmod: number): boolean {
  return typmod >= 4 && ((typmod - 4) & 0xffff) === 0;
}

export function codecFor(info: PgTypeInfo): CodecChoice {
  switch (info.kind) {
    case 'd':
      return info.element === undefined ? { codec: unknownType(info) } : codecFor(info.element);
    case 'e':
      return { codec: textCodec(`${info.name} (enum)`, true) };
    case 'array': {
      const element = info.element === undefined ? undefined : codecFor({ ...info.element, typmod: info.typmod });
      if (element === undefined) return { codec: unknownType(info) };
      if ('refused' in element) return element;
      if (!element.codec.known) return { refused: unknownElement('an array', element.codec.type) };
      return { codec: arrayCodec(element.codec, info.delimiter ?? ',') };
    }
    case 'r': {
      const subtype = info.element === undefined ? undefined : codecFor(info.element);
      if (subtype !== undefined && 'refused' in subtype) return subtype;
      if (subtype === undefined) return { codec: unknownType(info) };
      if (!subtype.codec.known) return { refused: unknownElement('a range', subtype.codec.type) };
      const toS = subtype.codec.toS;
      if (toS === undefined) {
        return { refused: `a range of ${subtype.codec.type}: Rails prints its bounds with Ruby's to_s, which the relay does not reproduce for this type` };
      }
      // Ruby's Range.new(-Float::INFINITY, time) raises (Float cannot compare with a Time).
      return { codec: rangeCodec(subtype.codec, toS, subtype.codec.type.startsWith('timestamp')) };
    }
    default:
      break;
  }
  if (info.name === 'numeric') return { codec: scaleIsZero(info.typmod) ? scaleZeroDecimalCodec : decimalCodec };
  return { codec: BY_NAME.get(info.name) ?? unknownType(info) };
}

/**
 * ActiveRecord registers an array or range type only when it already knows the element type, and
 * registers a type it does not know on first sight: whether it reads such a column as an array or
 * as text depends on the columns it met before, which the relay cannot know.
 */
function unknownElement(what: string, type: string): string {
  return `${what} of ${type}, a type ActiveRecord does not map: it reads the column as an array or as text depending on the columns it loaded before, so the relay cannot know which`;
}

function unknownType(info: PgTypeInfo): ColumnCodec {
  return textCodec(info.kind === 'array' ? `${info.element?.name ?? info.name}[]` : info.name, false);
}

/** Every type the mapping knows by name, for the type table of the docs and its test. */
export function namedCodecs(): ReadonlyMap<string, ColumnCodec> {
  return BY_NAME;
}
