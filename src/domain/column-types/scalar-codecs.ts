// Codecs of single-valued types, as ActiveRecord 6.1's PostgreSQL adapter casts them.
import { EncodingError, encodeRailsString } from '../rails-json';
import { formatPgNumeric, formatRubyFloat } from '../ruby-numbers';
import { noInteger, rubyStringToI, type ColumnCodec } from './codec';
import { ipJson, ipToI } from './network';
import { dateJson, intervalSeconds, parseDate, parseTime, parseTimestamp, rubyTimeToS, timeJson, timestampJson } from './times';

/** Integer types (and oid): the text is already Ruby's Integer#to_s. */
export function integerCodec(type: string): ColumnCodec {
  return {
    type,
    encodesAs: 'number',
    known: true,
    json: (t) => t,
    toI: (t) => t,
    toS: (t) => t,
    idKey: integerIdKey,
  };
}

// An integer's canonical text (what PostgreSQL prints for int2/int4/int8) is its own key.
const CANONICAL_INTEGER = /^(?:0|-?[1-9]\d*)$/;
const INTEGER_TEXT = /^\s*[+-]?\d+\s*$/;

/** `42`, `+42`, `042` and ` 42 ` are one id; text that is no integer is its own key. */
function integerIdKey(t: string): string {
  if (CANONICAL_INTEGER.test(t)) return t;
  return INTEGER_TEXT.test(t) ? BigInt(t.trim()).toString() : t;
}

function floatValue(text: string): number {
  if (text === 'NaN') return Number.NaN;
  if (text === 'Infinity') return Number.POSITIVE_INFINITY;
  if (text === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/** Ruby's Float#to_s, including its names for the special values. */
function rubyFloatToS(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  return formatRubyFloat(value) as string;
}

/** float4 / float8: Float, written by Float#to_s; NaN and infinities as null. */
export function floatCodec(type: string): ColumnCodec {
  return {
    type,
    encodesAs: 'number (Ruby Float#to_s: 1.0, 1.0e+20); NaN and infinities: null',
    known: true,
    json: (t) => formatRubyFloat(floatValue(t)) ?? 'null',
    toI: (t, column) => {
      const v = floatValue(t);
      if (!Number.isFinite(v)) throw noInteger(t, column);
      return BigInt(Math.trunc(v)).toString();
    },
    toS: (t) => rubyFloatToS(floatValue(t)),
  };
}

/** BigDecimal#to_i: truncation, except that values of ten or more integer digits are floored. */
function bigDecimalToI(text: string, column: string): string {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (m === null) throw noInteger(text, column);
  const digits = (m[2] ?? '').replace(/^0+/, '');
  if (digits === '') return '0';
  const truncated = BigInt(`${m[1]}${digits}`);
  const fraction = /[1-9]/.test(m[3] ?? '');
  return (m[1] === '-' && fraction && digits.length > 9 ? truncated - 1n : truncated).toString();
}

/** The canonical text of a number: `042.50` and `42.5` are the same, `42.0` is the integer `42`. */
function decimalKey(text: string): string {
  const canonical = formatPgNumeric(text.trim());
  return canonical === null ? text : canonical.replace(/\.0$/, '');
}

/** numeric: BigDecimal as a JSON string (`"12.5"`, `"100.0"`); NaN and infinities as null. */
export const decimalCodec: ColumnCodec = {
  type: 'numeric',
  encodesAs: 'string (BigDecimal: "12.5", "100.0"); NaN and infinities: null',
  known: true,
  json: (t) => {
    const s = formatPgNumeric(t);
    return s === null ? 'null' : `"${s}"`;
  },
  toI: bigDecimalToI,
  toS: (t) => formatPgNumeric(t) ?? (t === 'NaN' ? 'NaN' : t),
  idKey: decimalKey,
};

/** numeric(p,0): ActiveRecord casts it to an Integer (String#to_i, so NaN is 0). */
export const scaleZeroDecimalCodec: ColumnCodec = {
  type: 'numeric(p,0)',
  encodesAs: 'number (Integer)',
  known: true,
  json: (t) => rubyStringToI(t),
  toI: (t) => rubyStringToI(t),
  toS: (t) => rubyStringToI(t),
  idKey: decimalKey,
};

/**
 * money (lc_monetary pinned to C, so `$1,234.56` / `-$0.05`): ActiveRecord strips the currency
 * formatting and reads a BigDecimal with two decimals.
 */
export const moneyCodec: ColumnCodec = {
  type: 'money',
  encodesAs: 'string (BigDecimal: "1234.56")',
  known: true,
  json: (t) => `"${moneyDecimal(t)}"`,
  toI: (t, column) => bigDecimalToI(moneyDecimal(t), column),
};

function moneyDecimal(text: string): string {
  let value = text.replace(/^\((.+)\)$/, '-$1');
  if (/^-?\D*[\d,]+\.\d{2}$/.test(value)) value = value.replace(/[^-\d.]/g, '');
  else if (/^-?\D*[\d.]+,\d{2}$/.test(value)) value = value.replace(/[^-\d,]/g, '').replace(',', '.');
  // String#to_d reads the leading number and ignores the rest (0 when there is none).
  const m = /^\s*([-+]?\d[\d_]*(?:\.\d+)?)/.exec(value);
  return formatPgNumeric((m?.[1] ?? '0').replace(/_/g, '').replace(/^\+/, '')) as string;
}

export const booleanCodec: ColumnCodec = {
  type: 'boolean',
  encodesAs: 'true / false',
  known: true,
  json: (t) => (t === 't' ? 'true' : 'false'),
};

/** Types ActiveRecord reads as a String of PostgreSQL's text (and every type it does not know). */
export function textCodec(type: string, known: boolean, lowercaseKey = false): ColumnCodec {
  return {
    type,
    encodesAs: known ? 'string' : "string (PostgreSQL's text: Rails does not know the type)",
    known,
    json: (t) => encodeRailsString(t),
    toI: (t) => rubyStringToI(t),
    toS: (t) => t,
    idKey: lowercaseKey ? (t) => t.trim().toLowerCase() : (t) => t,
  };
}

export const dateCodec: ColumnCodec = {
  type: 'date',
  encodesAs: 'string "2024-01-31"; ±infinity: null',
  known: true,
  json: dateJson,
  toS: (t, column) => {
    const d = parseDate(t, column);
    if (d === 'infinity' || d === '-infinity') return d === 'infinity' ? 'Infinity' : '-Infinity';
    return d ?? '';
  },
};

function timestampToS(text: string, column: string): string {
  const t = parseTimestamp(text, column);
  return typeof t === 'string' ? (t === 'infinity' ? 'Infinity' : '-Infinity') : rubyTimeToS(t);
}

export function timestampCodec(type: string): ColumnCodec {
  return {
    type,
    encodesAs: 'string "2024-01-31T10:00:00.123Z" (UTC, milliseconds truncated); ±infinity: null',
    known: true,
    json: timestampJson,
    toI: (text, column) => {
      const t = parseTimestamp(text, column);
      if (typeof t === 'string') throw noInteger(text, column);
      return String(t.epochSeconds);
    },
    toS: timestampToS,
  };
}

export const timeCodec: ColumnCodec = {
  type: 'time',
  encodesAs: 'string "2000-01-01T10:00:00.000Z" (a time on 2000-01-01)',
  known: true,
  json: timeJson,
  toI: (t, column) => String(parseTime(t, column).epochSeconds),
};

export const intervalCodec: ColumnCodec = {
  type: 'interval',
  encodesAs: 'number (ActiveSupport::Duration#to_i: whole seconds, a month = 2629746 s)',
  known: true,
  json: (t) => intervalSeconds(t) ?? 'null',
  toI: (t) => intervalSeconds(t) ?? '0',
};

export function ipCodec(type: string): ColumnCodec {
  return {
    type,
    encodesAs: 'string (IPAddr#to_s: the address with the prefix applied as a mask, no /n)',
    known: true,
    json: ipJson,
    toI: ipToI,
  };
}

/** Ruby's Float(): what PostgreSQL prints for a finite float8; NaN and Infinity raise. */
function strictFloat(text: string, column: string): number {
  if (!/^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) {
    throw new EncodingError(`point coordinate ${text}: ActiveRecord's Float() raises for it, so the gem could not read this record`, column);
  }
  return Number(text);
}

/** point → ActiveRecord::Point, a Struct: `{"x":1.0,"y":2.0}`. */
export const pointCodec: ColumnCodec = {
  type: 'point',
  encodesAs: 'object {"x":1.0,"y":2.0}; a NaN or infinite coordinate fails the row',
  known: true,
  json: (t, column) => {
    const inner = t.startsWith('(') && t.endsWith(')') ? t.slice(1, -1) : t;
    const [x = '', y = ''] = inner.split(',');
    return `{"x":${formatRubyFloat(strictFloat(x, column))},"y":${formatRubyFloat(strictFloat(y, column))}}`;
  },
};

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** bytea (bytea_output pinned to hex) → a binary String: written when it is valid UTF-8. */
export const byteaCodec: ColumnCodec = {
  type: 'bytea',
  encodesAs: 'string when the bytes are valid UTF-8; otherwise the row fails (Rails raises JSON::GeneratorError)',
  known: true,
  json: (t, column) => encodeRailsString(byteaText(t, column)),
  toI: (t, column) => rubyStringToI(byteaText(t, column)),
};

function byteaText(text: string, column: string): string {
  if (!/^\\x(?:[0-9a-fA-F]{2})*$/.test(text)) throw new EncodingError('unexpected bytea text (the relay pins bytea_output to hex)', column);
  const bytes = new Uint8Array((text.length - 2) / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(2 + i * 2, 4 + i * 2), 16);
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new EncodingError('bytea value is not valid UTF-8: Rails raises JSON::GeneratorError for it, so the gem could not send this record', column);
  }
}

