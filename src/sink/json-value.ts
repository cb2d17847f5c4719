/**
 * JSON as the sink reads and forwards it, without losing what JavaScript numbers cannot hold.
 *
 * Messages carry integers of any size (bigint ids are JSON numbers) and Ruby floats (`1.0`,
 * `1.0e+20`). JSON.parse would round ids above 2^53 and turn `1.0` into `1`, so the synced_id or
 * synced_data written to PostgreSQL would differ from what the gem stores (it parses into Integer
 * and Float and writes them back unchanged). This parser keeps every number whose text a JS
 * number does not reproduce as a JsonNumber holding the original text; the writer emits it as is,
 * and PostgreSQL parses it exactly (jsonb numbers are numerics).
 *
 * Most messages hold only numbers that JS keeps exactly; those are parsed by the native JSON.parse
 * (several times faster), the others by the parser below. Either way a `__proto__` key is an
 * ordinary own key (JSON.parse defines properties; this parser builds prototype-less objects), and
 * keys are tested with Object.hasOwn, never `in`.
 */

/** A number kept as its original JSON text (JS would not print it back the same). */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonValue = null | boolean | string | number | JsonNumber | JsonValue[] | JsonObject;

export interface JsonObject {
  [key: string]: JsonValue;
}

export class JsonSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} at position ${position}`);
    this.name = 'JsonSyntaxError';
  }
}

/** Deeper nesting than this is refused (a stack overflow is not an error message). */
const MAX_DEPTH = 256;

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}

export function newJsonObject(): JsonObject {
  return Object.create(null) as JsonObject;
}

/**
 * An object for a record the sink builds, with V8's fast properties: a prototype-less object is a
 * dictionary, slower to fill, to read and to stringify, which cost the sink's planning about a
 * tenth of its time. Keys go in through setMember, so `__proto__` stays an ordinary own key.
 */
export function newRecordObject(): JsonObject {
  return {} as JsonObject;
}

export function setMember(target: JsonObject, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/**
 * True when every number of the text reads back as the same text from a JS number. A scan by
 * character codes (strings skipped, escapes included): a regular expression over the same text
 * cost more than JSON.parse itself. Integers of at most 15 digits are exact without a check;
 * a fraction, an exponent, a longer integer or `-0` is checked by printing it back.
 */
function numbersAreExact(text: string): boolean {
  const length = text.length;
  let p = 0;
  while (p < length) {
    const c = text.charCodeAt(p);
    if (c === 0x22) {
      p += 1;
      for (;;) {
        const d = text.charCodeAt(p);
        if (d === 0x22 || p >= length) break;
        p += d === 0x5c ? 2 : 1;
      }
      p += 1;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = p;
      let simple = true;
      p += 1;
      for (;;) {
        const d = text.charCodeAt(p);
        if (d >= 0x30 && d <= 0x39) p += 1;
        else if (d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b || d === 0x2d) {
          simple = false;
          p += 1;
        } else break;
      }
      const raw = text.slice(start, p);
      if (!simple || p - start > 15 || raw === '-0') {
        if (String(Number(raw)) !== raw) return false;
      }
    } else p += 1;
  }
  return true;
}

export function parseJson(text: string): JsonValue {
  return readJson(text).value;
}

/**
 * The value, and whether it holds no JsonNumber (then JSON.stringify writes any part of it exactly,
 * much faster than writeJson).
 */
export function readJson(text: string): { value: JsonValue; exactNumbers: boolean } {
  if (numbersAreExact(text)) {
    try {
      return { value: JSON.parse(text) as JsonValue, exactNumbers: true };
    } catch {
      // The parser below says where and why.
    }
  }
  const parser = new Parser(text);
  const value = parser.value(0);
  parser.skipSpace();
  if (parser.pos !== text.length) throw new JsonSyntaxError('unexpected text after the value', parser.pos);
  return { value, exactNumbers: false };
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Parser {
  pos = 0;

  constructor(private readonly text: string) {}

  skipSpace(): void {
    const t = this.text;
    let p = this.pos;
    for (;;) {
      const c = t.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p += 1;
      else break;
    }
    this.pos = p;
  }

  value(depth: number): JsonValue {
    this.skipSpace();
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x7b) return this.object(depth + 1);
    if (c === 0x5b) return this.array(depth + 1);
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.text.startsWith('true', this.pos)) return this.literal(4, true);
    if (this.text.startsWith('false', this.pos)) return this.literal(5, false);
    if (this.text.startsWith('null', this.pos)) return this.literal(4, null);
    throw new JsonSyntaxError(this.pos >= this.text.length ? 'unexpected end of input' : 'unexpected character', this.pos);
  }

  private literal<T>(length: number, value: T): T {
    this.pos += length;
    return value;
  }

  private object(depth: number): JsonObject {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError('nesting too deep', this.pos);
    this.pos += 1;
    const result = newJsonObject();
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos += 1;
      return result;
    }
    for (;;) {
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x22) throw new JsonSyntaxError('expected a string key', this.pos);
      const key = this.string();
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x3a) throw new JsonSyntaxError('expected ":"', this.pos);
      this.pos += 1;
      result[key] = this.value(depth);
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      this.pos += 1;
      if (c === 0x7d) return result;
      if (c !== 0x2c) throw new JsonSyntaxError('expected "," or "}"', this.pos - 1);
    }
  }

  private array(depth: number): JsonValue[] {
    if (depth > MAX_DEPTH) throw new JsonSyntaxError('nesting too deep', this.pos);
    this.pos += 1;
    const result: JsonValue[] = [];
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos += 1;
      return result;
    }
    for (;;) {
      result.push(this.value(depth));
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      this.pos += 1;
      if (c === 0x5d) return result;
      if (c !== 0x2c) throw new JsonSyntaxError('expected "," or "]"', this.pos - 1);
    }
  }

  private string(): string {
    const t = this.text;
    const start = this.pos;
    let p = start + 1;
    let escaped = false;
    for (;;) {
      const c = t.charCodeAt(p);
      if (Number.isNaN(c)) throw new JsonSyntaxError('unterminated string', start);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        p += 2;
        continue;
      }
      if (c < 0x20) throw new JsonSyntaxError('control character in string', p);
      p += 1;
    }
    this.pos = p + 1;
    if (!escaped) return t.slice(start + 1, p);
    // Escapes are rare in these messages; the native parser decodes them (and validates them).
    try {
      return JSON.parse(t.slice(start, p + 1)) as string;
    } catch {
      throw new JsonSyntaxError('invalid escape in string', start);
    }
  }

  private number(): number | JsonNumber {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) throw new JsonSyntaxError('invalid number', this.pos);
    const raw = match[0];
    this.pos += raw.length;
    const n = Number(raw);
    return String(n) === raw ? n : new JsonNumber(raw);
  }
}

/** Compact JSON text of a value; JsonNumbers are written as their original text. */
export function writeJson(value: JsonValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value);
  }
  if (value instanceof JsonNumber) return value.text;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + writeJson(value[i] as JsonValue);
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  for (const key in value) {
    out += `${first ? '' : ','}${JSON.stringify(key)}:${writeJson(value[key] as JsonValue)}`;
    first = false;
  }
  return `${out}}`;
}

/** The value as Ruby's `to_s` would print it for a grouping key (ids are numbers or strings). */
export function scalarText(value: JsonValue | undefined): string {
  if (value === undefined || value === null) return '';
  if (value instanceof JsonNumber) return value.text;
  if (typeof value === 'object') return writeJson(value);
  return String(value);
}
