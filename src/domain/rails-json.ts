// JSON encoding that is byte-compatible with what the Ruby gem put on the wire.
//
// The gem serialized records with ActiveSupport's JSON encoder (Rails defaults), and consumers
// compare / store those bytes, so the relay must reproduce them exactly (compat doc §2):
//   - compact output, keys in insertion order;
//   - strings escaped like the JSON standard, plus `<` `>` `&` (escape_html_entities_in_json is on
//     by default) and U+2028 / U+2029 (always), all as lowercase `\uXXXX`;
//   - other non-ASCII characters are written literally as UTF-8 (Rails does not \u-escape them);
//   - times as ISO 8601 UTC with exactly 3 fractional digits and `Z`;
//   - non-finite floats as `null`.
// Pure: no I/O, no dependencies. It runs once per Kafka message, so the common path avoids
// per-character JavaScript loops: strings go through the engine's JSON.stringify and a regex that
// almost never matches.

/** Raised when a value cannot be represented the way the Ruby side would have sent it. */
import { RawJson } from './ruby-numbers';

export class EncodingError extends Error {
  /** Where the offending value sits, e.g. `data[0].avatar`; `` (empty) for the root value. */
  readonly path: string;

  constructor(message: string, path: string) {
    super(path === '' ? `${message} (at the root value)` : `${message} (at ${path})`);
    this.name = 'EncodingError';
    this.path = path;
  }
}

// Nesting limit: serialized records are at most a few levels deep (record → sideload → jsonb),
// so 64 only stops runaway structures early, before the engine's own stack limit does.
const MAX_DEPTH = 64;

// The five characters Rails escapes beyond what JSON.stringify escapes. JSON.stringify leaves all
// five literal, so one replace over its output is enough; their escapes never occur otherwise.
const RAILS_EXTRA = /[<>&\u2028\u2029]/;
const RAILS_EXTRA_GLOBAL = /[<>&\u2028\u2029]/g;
const RAILS_ESCAPES: Readonly<Record<string, string>> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};
const replaceRailsChar = (ch: string): string => RAILS_ESCAPES[ch] ?? ch;

// Anything that makes a string need more than surrounding quotes: JSON's own escapes (quote,
// backslash, control characters), the Rails extras, and surrogates (lone ones must be escaped;
// proper pairs merely take the slow path, which writes them literally).
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be found
const NEEDS_ESCAPING = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

/**
 * JSON string literal as Rails writes it. JSON.stringify already matches Ruby's JSON generator
 * for quotes, backslashes and control characters (`\n`, `\u001f`, lowercase hex) and, since
 * ES2019, writes lone surrogates as `\udXXX` instead of producing invalid UTF-8.
 */
export function encodeRailsString(s: string): string {
  // Fast path for the overwhelmingly common string (column names, ids, words, ISO times):
  // one regex scan, no JSON.stringify call, no replace.
  if (!NEEDS_ESCAPING.test(s)) return `"${s}"`;
  const json = JSON.stringify(s);
  return RAILS_EXTRA.test(json) ? json.replace(RAILS_EXTRA_GLOBAL, replaceRailsChar) : json;
}

/**
 * ActiveSupport's Time#as_json form: UTC, milliseconds, `Z`. toISOString is exactly that for
 * years 0000-9999 (every real timestamp); outside that range it writes the extended `+YYYYYY`
 * form, which Ruby would not, but such dates do not occur in outbox data.
 */
function encodeDate(d: Date): string {
  const ms = d.getTime();
  // An invalid Date has no Ruby counterpart; null is what JSON.stringify gives it as well.
  return Number.isNaN(ms) ? 'null' : `"${d.toISOString()}"`;
}

/** Diagnostic path in the `data[0].avatar` style from the keys leading to a value. */
function formatPath(keys: ReadonlyArray<string | number>): string {
  let path = '';
  for (const key of keys) {
    if (typeof key === 'number') path += `[${key}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(key)) path += path === '' ? key : `.${key}`;
    else path += `[${JSON.stringify(key)}]`;
  }
  return path;
}

function isBinary(value: object): boolean {
  // Buffer is a Uint8Array; ArrayBuffer.isView also catches every typed array and DataView.
  return (
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)
  );
}

/**
 * Encodes `value` as compact JSON exactly as Rails/ActiveSupport would (see the file header).
 *
 * Mapping:
 * - string/boolean/null: as JSON, strings with the Rails escapes;
 * - number: JSON.stringify's form when finite, `null` for NaN/±Infinity (Rails' Float#as_json).
 *   Note Ruby prints floats with integral values as `1.0`; a JS number cannot tell 1 from 1.0,
 *   so callers who need `1.0` must decide that before encoding;
 * - bigint: its decimal digits as a JSON number (int8 ids beyond 2^53 stay exact);
 * - Date: `"2024-01-01T10:00:00.000Z"`, an invalid Date → `null`;
 * - undefined: `null`, also as an object property (Ruby has no undefined, and dropping the key
 *   would change the record's shape);
 * - arrays: element by element (holes → `null`);
 * - any other object: its own enumerable string keys in JS order. `toJSON` is deliberately
 *   ignored: only what the relay built or parsed reaches this function. Caveat: JS lists
 *   integer-like keys ("1", "42") first, so such keys cannot keep a different insertion order;
 * - binary data (Buffer, typed arrays, ArrayBuffer), Map, Set, functions and symbols throw
 *   EncodingError: the relay does not support bytea attributes, and Map/Set would otherwise
 *   silently become `{}`;
 * - circular references and nesting deeper than 64 containers throw EncodingError.
 */
export function encodeRailsJson(value: unknown): string {
  return new Encoder([], 0).encode(value);
}

/**
 * encodeRailsJson for a value that sits inside a larger document written elsewhere (see
 * record-shape.ts): `path` is where it sits (for error messages) and `depth` how many containers
 * are already open around it (for the nesting limit), so errors and limits are the same as when
 * the whole document goes through encodeRailsJson.
 */
export function encodeRailsJsonAt(value: unknown, path: ReadonlyArray<string | number>, depth: number): string {
  return new Encoder([...path], depth).encode(value);
}

// One encoder per call. `keys` (the path from the root) and `ancestors` (the containers being
// encoded, for cycle detection) are stacks pushed and popped around each child; the path string
// is only formatted when an error is thrown, so the success path pays for no string building.
// Both stacks are at most MAX_DEPTH long, so a linear `includes` is cheaper than a Set.
class Encoder {
  private readonly ancestors: object[] = [];

  constructor(
    private readonly keys: Array<string | number>,
    /** Containers open around the value, outside this encoder (they cannot be cycles here). */
    private readonly outerDepth: number,
  ) {}

  private fail(message: string): never {
    throw new EncodingError(message, formatPath(this.keys));
  }

  encode(value: unknown): string {
    switch (typeof value) {
      case 'string':
        return encodeRailsString(value);
      case 'number':
        return Number.isFinite(value) ? JSON.stringify(value) : 'null';
      case 'boolean':
        return value ? 'true' : 'false';
      case 'bigint':
        return value.toString();
      case 'undefined':
        return 'null';
      case 'function':
        return this.fail('cannot encode a function as JSON');
      case 'symbol':
        return this.fail('cannot encode a symbol as JSON');
      case 'object':
        break;
    }
    if (value === null) return 'null';
    const obj = value as object;
    if (obj instanceof Date) return encodeDate(obj);
    if (obj instanceof RawJson) return obj.json;
    if (Array.isArray(obj)) return this.encodeContainer(obj, true);
    if (isBinary(obj)) return this.fail('binary data (bytea) is not supported in messages');
    if (obj instanceof Map || obj instanceof Set || obj instanceof WeakMap || obj instanceof WeakSet) {
      return this.fail(`cannot encode a ${obj.constructor.name} as JSON; convert it first`);
    }
    return this.encodeContainer(obj, false);
  }

  private encodeContainer(obj: object, isArray: boolean): string {
    const { keys, ancestors } = this;
    if (this.outerDepth + ancestors.length >= MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    // Only ancestors count as cycles: the same object twice side by side is fine.
    if (ancestors.includes(obj)) this.fail('circular structure');
    ancestors.push(obj);
    let out: string;
    if (isArray) {
      const arr = obj as unknown[];
      out = '[';
      for (let i = 0; i < arr.length; i++) {
        if (i > 0) out += ',';
        keys.push(i);
        out += this.encode(arr[i]);
        keys.pop();
      }
      out += ']';
    } else {
      const record = obj as Record<string, unknown>;
      const names = Object.keys(record);
      out = '{';
      for (let i = 0; i < names.length; i++) {
        const name = names[i] as string;
        if (i > 0) out += ',';
        keys.push(name);
        out += encodeRailsString(name) + ':' + this.encode(record[name]);
        keys.pop();
      }
      out += '}';
    }
    ancestors.pop();
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL text timestamps → Rails time strings.
//
// The relay reads timestamps as text (DateStyle ISO) instead of letting node-postgres build JS
// Dates: a Date cannot hold microseconds, is parsed in local time for `timestamp`, and the text is
// all we need to print. Ruby's Time#xmlschema(3) TRUNCATES to milliseconds (it floors subsec), so
// `.123999` becomes `.123`; these functions truncate by slicing digits, never by rounding.
// ---------------------------------------------------------------------------------------------

// Date and time parts as PostgreSQL prints them with DateStyle ISO. Years have at least 4 digits
// (more after 9999). Field ranges are checked so that look-alike strings in JSON are left alone.
const DATE_RE = '(\\d{4,})-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])';
const TIME_RE = '([01]\\d|2[0-3]):([0-5]\\d):([0-5]\\d)(?:\\.(\\d{1,9}))?';
// Offsets: `+00`, `+02`, `-04:30`, `+05:30:15` (historic LMT offsets carry seconds), or `Z`.
const OFFSET_RE = '(Z|[+-]\\d{2}(?::?\\d{2}(?::?\\d{2})?)?)';

const PG_TIMESTAMP = new RegExp(`^${DATE_RE} ${TIME_RE}( BC)?$`);
const PG_TIMESTAMPTZ = new RegExp(`^${DATE_RE} ${TIME_RE}${OFFSET_RE}( BC)?$`);
const PG_DATE = new RegExp(`^${DATE_RE}( BC)?$`);
// to_json / json_build_object form: `T` separator, offset optional (absent for `timestamp`).
const PG_JSON_TIMESTAMP = new RegExp(`^${DATE_RE}T${TIME_RE}${OFFSET_RE}?$`);

/** First three fraction digits, right-padded: '5' → '500', '123456' → '123', absent → '000'. */
function millis(fraction: string | undefined): string {
  if (fraction === undefined) return '000';
  return fraction.length >= 3 ? fraction.slice(0, 3) : fraction.padEnd(3, '0');
}

/** Offset text → signed seconds east of UTC. `Z` and `+00` → 0. */
function offsetSeconds(offset: string): number {
  if (offset === 'Z') return 0;
  const sign = offset[0] === '-' ? -1 : 1;
  const digits = offset.slice(1).replace(/:/g, '');
  const h = Number(digits.slice(0, 2));
  const m = digits.length >= 4 ? Number(digits.slice(2, 4)) : 0;
  const s = digits.length >= 6 ? Number(digits.slice(4, 6)) : 0;
  return sign * (h * 3600 + m * 60 + s);
}

/**
 * Shared tail: wall-clock fields plus an offset → Rails string, or null when out of range.
 * Zero offset (the normal case: the relay's sessions run in UTC) is pure string formatting and
 * works for any year. Other offsets go through Date arithmetic on whole milliseconds; the
 * sub-millisecond digits were already dropped, and offsets are whole seconds, so truncation stays
 * exact.
 */
function toRailsUtc(
  y: string, mo: string, d: string, h: string, mi: string, s: string,
  fraction: string | undefined, offset: number,
): string | null {
  const ms = millis(fraction);
  if (offset === 0) return `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0-99 to 1900-1999.
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  date.setUTCHours(Number(h), Number(mi), Number(s) - offset, Number(ms));
  const t = date.getTime();
  if (Number.isNaN(t)) return null; // beyond JS Date's ±275760 years
  const year = date.getUTCFullYear();
  // Shifting can cross into year 0 (1 BC); BC is reported as null like formatPgTimestamp does.
  if (year < 1) return null;
  const iso = date.toISOString(); // `YYYY-MM-DDTHH:MM:SS.mmmZ`, or `+YYYYYY-...` after 9999
  return year > 9999 ? `${year}${iso.slice(iso.indexOf('-', 1))}` : iso;
}

function badInput(kind: string, text: string): RangeError {
  return new RangeError(
    `unexpected PostgreSQL ${kind} text ${JSON.stringify(text)} (is the session DateStyle ISO?)`,
  );
}

/**
 * `timestamp without time zone` text (holding UTC, DateStyle ISO) → Rails time string.
 *   `2024-01-01 10:00:00`        → `2024-01-01T10:00:00.000Z`
 *   `2024-01-01 10:00:00.123456` → `2024-01-01T10:00:00.123Z` (truncated, never rounded)
 * Returns null for `infinity` / `-infinity` (no Ruby Time equivalent) and for BC dates (no sane
 * ISO form for consumers). Years after 9999 keep all their digits (`10000-01-01T...`), as Ruby
 * prints them. Throws RangeError for any other shape: that means a wrong DateStyle, and silently
 * publishing null timestamps would make consumers drop the update.
 */
export function formatPgTimestamp(text: string): string | null {
  if (text === 'infinity' || text === '-infinity') return null;
  const m = PG_TIMESTAMP.exec(text);
  if (m === null) throw badInput('timestamp', text);
  if (m[8] !== undefined) return null; // BC
  return toRailsUtc(m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7], 0);
}

/**
 * `timestamp with time zone` text → Rails time string in UTC.
 *   `2024-01-01 10:00:00.123456+00` → `2024-01-01T10:00:00.123Z`
 *   `2024-01-01 12:00:00+02`        → `2024-01-01T10:00:00.000Z`
 *   `2024-01-01 05:30:00-04:30`     → `2024-01-01T10:00:00.000Z`
 * Same null/throw rules as formatPgTimestamp; additionally null when a non-zero offset pushes the
 * result out of JS Date's range or before year 1.
 */
export function formatPgTimestamptz(text: string): string | null {
  if (text === 'infinity' || text === '-infinity') return null;
  const m = PG_TIMESTAMPTZ.exec(text);
  if (m === null) throw badInput('timestamptz', text);
  if (m[9] !== undefined) return null; // BC
  return toRailsUtc(m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7], offsetSeconds(m[8]!));
}

/**
 * `date` text → `YYYY-MM-DD`, which is already Rails' Date#as_json form (identity).
 * null for `infinity` / `-infinity` and BC dates; years after 9999 keep their digits.
 * Throws RangeError for any other shape (wrong DateStyle).
 */
export function formatPgDate(text: string): string | null {
  if (text === 'infinity' || text === '-infinity') return null;
  const m = PG_DATE.exec(text);
  if (m === null) throw badInput('date', text);
  if (m[4] !== undefined) return null; // BC
  return text;
}

/** Postgres JSON timestamp string → Rails form, or undefined when `s` is not one. */
function normalizeJsonTimestamp(s: string): string | null | undefined {
  // Cheap length check first: the shortest candidate is `YYYY-MM-DDTHH:MM:SS`. Most other
  // strings then fail the anchored regex on their first characters.
  if (s.length < 19) return undefined;
  const m = PG_JSON_TIMESTAMP.exec(s);
  if (m === null) return undefined;
  const offset = m[8] === undefined ? 0 : offsetSeconds(m[8]);
  return toRailsUtc(m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, m[6]!, m[7], offset);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * For values parsed from json/jsonb columns built with Postgres `to_json` / `json_build_object`
 * (sideloads, embedded records): Postgres writes timestamps there as `2024-01-01T10:00:00.123456`
 * (timestamp, already UTC) or `...+02:00` (timestamptz), whereas Rails would have written
 * `2024-01-01T10:00:00.123Z`. Returns a deep copy of arrays and plain objects in which every
 * string that is exactly such a timestamp is rewritten to the Rails form (UTC, 3 digits, `Z`).
 * Everything else is kept as is: date-only strings (`2024-01-01`, already Rails' Date form),
 * times of day, numbers, other strings, and non-plain objects (not produced by JSON.parse).
 * A timestamp that cannot be shifted into range is kept unchanged rather than nulled.
 */
export function normalizeNestedJson(value: unknown): unknown {
  if (typeof value === 'string') {
    const normalized = normalizeJsonTimestamp(value);
    return normalized === undefined || normalized === null ? value : normalized;
  }
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(normalizeNestedJson);
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = normalizeNestedJson(value[key]);
    if (key === '__proto__') {
      // JSON.parse makes `__proto__` an ordinary own key; plain assignment would set the
      // prototype of the copy instead and lose the key.
      Object.defineProperty(copy, key, { value: v, enumerable: true, writable: true, configurable: true });
    } else {
      copy[key] = v;
    }
  }
  return copy;
}
