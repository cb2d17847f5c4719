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
  /** The message without the path. */
  readonly reason: string;

  constructor(message: string, path: string) {
    super(path === '' ? `${message} (at the root value)` : `${message} (at ${path})`);
    this.name = 'EncodingError';
    this.path = path;
    this.reason = message;
  }

  /** The same error for a value that sits under `prefix` (a sideload's key and index). */
  within(prefix: string): EncodingError {
    return new EncodingError(this.reason, this.path === '' ? prefix : `${prefix}.${this.path}`);
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
