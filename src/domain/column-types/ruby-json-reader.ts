// json / jsonb columns as ActiveRecord reads them and ActiveSupport writes them again.
//
// ActiveRecord parses a json or jsonb value with Ruby's JSON parser into Hashes, Arrays, Strings,
// Integers and Floats; ActiveSupport then encodes that structure. So what goes on the wire is not
// the column's text but the text re-written by Ruby:
// - objects keep the order of their text (jsonb's text is already in PostgreSQL's order); a key
//   given twice keeps its first position and its last value (Ruby Hash#[]=);
// - integers (no fraction, no exponent) are exact at any size; `-0` is `0`;
// - numbers with a fraction or an exponent become Floats: printed as Float#to_s (`1.0`,
//   `1.0e+20`), and `null` when they overflow to Infinity;
// - strings are decoded and written with Rails' escapes. Ruby's parser joins a high surrogate
//   escape with whatever `\uXXXX` follows it, fails on a high surrogate escape followed by
//   anything else, and keeps a lone low surrogate as bytes that are not UTF-8;
// - when Ruby's parser fails (that surrogate case, or nesting deeper than its max_nesting of 100),
//   ActiveRecord rescues the error and the attribute is nil: the column is written as `null`;
// - a string that is not UTF-8 makes the encoder raise: the record cannot be sent.
import { EncodingError, encodeRailsString } from '../rails-json';
import { formatRubyFloat } from '../ruby-numbers';

/** JSON.parse's default max_nesting: a document nested deeper than this does not parse. */
const RUBY_MAX_NESTING = 100;

/** A parse that Ruby's JSON parser would refuse (the attribute then reads as nil). */
class RubyParseError extends Error {}

/** A string Ruby holds as bytes that are not UTF-8: encoding the record raises. */
const INVALID = Symbol('invalid UTF-8 string');
type Fragment = string | typeof INVALID;

/**
 * The Rails JSON of a json/jsonb column's text: `null` where ActiveRecord's parse fails; throws
 * EncodingError (path `column`) when Ruby would hold a string that ActiveSupport cannot encode.
 */
export function rubyJsonFromText(text: string, column: string): string {
  let out: Fragment;
  try {
    out = new Reader(text).document();
  } catch (err) {
    if (err instanceof RubyParseError) return 'null';
    throw err;
  }
  if (out === INVALID) {
    throw new EncodingError('a string in this json value is not valid UTF-8 (a lone \\udc00-\\udfff escape); Rails cannot encode it', column);
  }
  return out;
}

const WHITESPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
// Runs of string characters that need no decoding.
// eslint-disable-next-line no-control-regex -- the JSON grammar is defined on control characters
const PLAIN = /[^"\\\u0000-\u001f]+/y;

class Reader {
  private pos = 0;
  private depth = 0;

  constructor(private readonly text: string) {}

  document(): Fragment {
    const value = this.value();
    this.skip();
    if (this.pos !== this.text.length) throw new RubyParseError('trailing text');
    return value;
  }

  private skip(): void {
    WHITESPACE.lastIndex = this.pos;
    WHITESPACE.exec(this.text);
    this.pos = WHITESPACE.lastIndex;
  }

  private value(): Fragment {
    this.skip();
    const c = this.text[this.pos];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"': {
        const s = this.string();
        return s === INVALID ? INVALID : encodeRailsString(s);
      }
      case 't':
        return this.literal('true');
      case 'f':
        return this.literal('false');
      case 'n':
        return this.literal('null');
      default:
        return this.number();
    }
  }

  private literal(word: string): string {
    if (!this.text.startsWith(word, this.pos)) throw new RubyParseError(`unexpected token at ${this.pos}`);
    this.pos += word.length;
    return word;
  }

  private number(): string {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (m === null || m[0] === '' || m[0] === '-') throw new RubyParseError(`unexpected token at ${this.pos}`);
    this.pos = NUMBER.lastIndex;
    const digits = m[0];
    if (m[1] === undefined && m[2] === undefined) return digits === '-0' ? '0' : digits;
    // Both engines convert decimal text to the nearest double (correct rounding).
    return formatRubyFloat(Number(digits)) ?? 'null';
  }

  private enter(): void {
    this.depth += 1;
    if (this.depth > RUBY_MAX_NESTING) throw new RubyParseError('nesting too deep');
    this.pos += 1;
  }

  private array(): Fragment {
    this.enter();
    const items: Fragment[] = [];
    this.skip();
    if (this.text[this.pos] === ']') this.pos += 1;
    else {
      for (;;) {
        items.push(this.value());
        this.skip();
        const c = this.text[this.pos++];
        if (c === ']') break;
        if (c !== ',') throw new RubyParseError(`expected , or ] at ${this.pos - 1}`);
      }
    }
    this.depth -= 1;
    return items.includes(INVALID) ? INVALID : `[${items.join(',')}]`;
  }

  private object(): Fragment {
    this.enter();
    // A Map keeps a key's first position when it is set again, as a Ruby Hash does.
    const entries = new Map<string, Fragment>();
    let invalidKey = false;
    this.skip();
    if (this.text[this.pos] === '}') this.pos += 1;
    else {
      for (;;) {
        this.skip();
        if (this.text[this.pos] !== '"') throw new RubyParseError(`expected a key at ${this.pos}`);
        const key = this.string();
        this.skip();
        if (this.text[this.pos++] !== ':') throw new RubyParseError(`expected : at ${this.pos - 1}`);
        const value = this.value();
        if (key === INVALID) invalidKey = true;
        else entries.set(key, value);
        this.skip();
        const c = this.text[this.pos++];
        if (c === '}') break;
        if (c !== ',') throw new RubyParseError(`expected , or } at ${this.pos - 1}`);
      }
    }
    this.depth -= 1;
    if (invalidKey) return INVALID;
    let out = '{';
    for (const [key, value] of entries) {
      if (value === INVALID) return INVALID;
      out += `${out.length > 1 ? ',' : ''}${encodeRailsString(key)}:${value}`;
    }
    return `${out}}`;
  }

  /** A string literal at `pos` (on its opening quote), decoded as Ruby's parser decodes it. */
  private string(): string | typeof INVALID {
    const { text } = this;
    this.pos += 1;
    let out = '';
    let invalid = false;
    for (;;) {
      PLAIN.lastIndex = this.pos;
      if (PLAIN.exec(text) !== null) {
        out += text.slice(this.pos, PLAIN.lastIndex);
        this.pos = PLAIN.lastIndex;
      }
      const c = text[this.pos];
      if (c === '"') {
        this.pos += 1;
        return invalid ? INVALID : out;
      }
      if (c !== '\\') throw new RubyParseError(`bad character in string at ${this.pos}`);
      const e = text[this.pos + 1];
      this.pos += 2;
      if (e === 'u') {
        const unit = this.hex4();
        if (unit >= 0xd800 && unit <= 0xdbff) {
          // Ruby combines a high surrogate with the next \u escape, whatever it is.
          if (text[this.pos] !== '\\' || text[this.pos + 1] !== 'u') throw new RubyParseError('incomplete surrogate pair');
          this.pos += 2;
          const low = this.hex4();
          out += String.fromCodePoint((((unit & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000);
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          invalid = true;
        } else {
          out += String.fromCharCode(unit);
        }
        continue;
      }
      const simple = ESCAPES[e ?? ''];
      if (simple === undefined) throw new RubyParseError(`bad escape at ${this.pos - 2}`);
      out += simple;
    }
  }

  private hex4(): number {
    const hex = this.text.slice(this.pos, this.pos + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new RubyParseError(`bad \\u escape at ${this.pos}`);
    this.pos += 4;
    return parseInt(hex, 16);
  }
}

const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
