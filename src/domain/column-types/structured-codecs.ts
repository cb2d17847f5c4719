// Codecs of composite values: json/jsonb, hstore, arrays and ranges, as ActiveRecord 6.1 reads
// them and ActiveSupport writes them.
import { EncodingError, encodeRailsString } from '../rails-json';
import type { ColumnCodec } from './codec';
import { parsePgArray, type PgArray } from './pg-array';
import { rubyJsonFromText } from './ruby-json-reader';

export function jsonCodec(type: 'json' | 'jsonb'): ColumnCodec {
  return {
    type,
    encodesAs:
      type === 'json'
        ? 'the parsed value: keys in text order (a repeated key keeps its first place, last value), exact integers, Ruby floats'
        : "the parsed value: keys in PostgreSQL's jsonb order, exact integers, Ruby floats (1.0, 1.0e+20)",
    known: true,
    json: rubyJsonFromText,
  };
}

/** hstore → Hash of Strings (NULL values nil), keys in the order PostgreSQL prints them. */
export const hstoreCodec: ColumnCodec = {
  type: 'hstore',
  encodesAs: 'object of strings (NULL values: null)',
  known: true,
  json: (text, column) => {
    // Ruby Hash semantics for a repeated key, though PostgreSQL never prints one.
    const entries = new Map<string, string>();
    const pair = /\s*"((?:[^"\\]|\\.)*)"\s*=>\s*(?:"((?:[^"\\]|\\.)*)"|(NULL))\s*(?:,|$)/gsy;
    let m: RegExpExecArray | null;
    let end = 0;
    while (end < text.length && (m = pair.exec(text)) !== null) {
      end = pair.lastIndex;
      const key = unescapeHstore(m[1] as string);
      entries.set(key, m[3] === undefined ? encodeRailsString(unescapeHstore(m[2] as string)) : 'null');
    }
    if (end !== text.length) throw new EncodingError(`unexpected hstore text ${JSON.stringify(text.slice(0, 80))}`, column);
    return `{${[...entries].map(([k, v]) => `${encodeRailsString(k)}:${v}`).join(',')}}`;
  },
};

function unescapeHstore(s: string): string {
  return s.replace(/\\(.)/gs, '$1');
}

/** An array of a type Rails knows: a JSON array (nested for multi-dimensional ones), NULL → null. */
export function arrayCodec(element: ColumnCodec, delimiter: string): ColumnCodec {
  const write = (items: PgArray, column: string): string =>
    `[${items.map((item) => (item === null ? 'null' : typeof item === 'string' ? element.json(item, column) : write(item, column))).join(',')}]`;
  return {
    type: `${element.type}[]`,
    encodesAs: `array of ${element.encodesAs.startsWith('array') ? 'arrays' : 'the element encoding'}`,
    known: true,
    json: (text, column) => write(parsePgArray(text, delimiter, column), column),
  };
}

/**
 * A range of a type Rails knows → Ruby Range → Range#to_s: `1...5`, `2024-01-01 10:00:00
 * UTC..2024-01-02 10:00:00 UTC`, `-Infinity...5` for an unbounded side; `empty` → nil. Ruby's Range
 * cannot exclude its start: ActiveRecord raises for `(a,b]` with a finite start, so such a value
 * fails its row, as does a time range with an unbounded start and a bounded end.
 */
export function rangeCodec(subtype: ColumnCodec, toS: (text: string, column: string) => string, infiniteStartRaises: boolean): ColumnCodec {
  const bound = (raw: string, column: string, infinite: string): string => {
    if (raw === '' || raw === infinite) return infinite === 'infinity' ? 'Infinity' : '-Infinity';
    return toS(raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1).replace(/""/g, '"').replace(/\\\\/g, '\\') : raw, column);
  };
  return {
    type: `range of ${subtype.type}`,
    encodesAs: 'string (Ruby Range#to_s: "1...5"); empty: null',
    known: true,
    json: (text, column) => {
      if (text === 'empty') return 'null';
      const inner = text.slice(1, -1);
      const comma = inner.indexOf(',');
      const fromText = comma === -1 ? inner : inner.slice(0, comma);
      const toText = comma === -1 ? '' : inner.slice(comma + 1);
      const from = bound(fromText, column, '-infinity');
      if (text.startsWith('(') && from !== '-Infinity' && from !== 'Infinity') {
        throw new EncodingError(`range ${text} excludes its start, which a Ruby Range cannot: ActiveRecord raises, so the gem could not read this record`, column);
      }
      const to = bound(toText, column, 'infinity');
      if (infiniteStartRaises && from === '-Infinity' && to !== 'Infinity') {
        throw new EncodingError(`range ${text}: Ruby cannot make a Range from -Infinity to a time (ArgumentError), so the gem could not read this record`, column);
      }
      return encodeRailsString(`${from}${text.endsWith(')') ? '...' : '..'}${to}`);
    },
  };
}
