// What the relay knows about one result column: how ActiveRecord 6.1 would cast its PostgreSQL
// text and how ActiveSupport would then write it. The loader fetches every serializer value as
// text and keeps it; the codec turns it into JSON when the message is built, so a value Rails
// cannot encode fails its own row (EncodingError) and nothing else.

/** A column's PostgreSQL type, as read from the catalog for a result column. */
export interface PgTypeInfo {
  readonly oid: number;
  /** pg_type.typname (`int8`, `_int4` for arrays, `mood` for an enum). */
  readonly name: string;
  /** b: base, e: enum, d: domain, r: range, c: composite, p: pseudo, m: multirange; `array` for arrays. */
  readonly kind: 'b' | 'e' | 'd' | 'r' | 'c' | 'p' | 'm' | 'array';
  /** Arrays: the element type; ranges: the subtype; domains: the base type. */
  readonly element?: PgTypeInfo;
  /** The element type's delimiter in array text (`,`; `;` for box). */
  readonly delimiter?: string;
  /** The result column's type modifier (numeric(10,0) → integers), -1 when none. */
  readonly typmod: number;
}

export interface ColumnCodec {
  /** The type as the type table names it (`numeric`, `integer[]`, `mood (enum)`). */
  readonly type: string;
  /** What the value becomes in the message, for the type table (`string`, `integer seconds`). */
  readonly encodesAs: string;
  /**
   * Whether ActiveRecord's type map knows the type. Rails reads a type it does not know as its
   * PostgreSQL text; an array or range of such a type is not known either.
   */
  readonly known: boolean;
  /** The value's JSON as Rails writes the attribute. Throws EncodingError when Rails cannot. */
  json(text: string, column: string): string;
  /**
   * Ruby's `value.to_i.to_s`, the gem's partition-key cast. Absent when Ruby's class has no to_i
   * (Date, Hash, Array, true): the gem would raise for every non-nil value. Throws Error for values
   * whose to_i raises (NaN, infinity).
   */
  readonly toI?: (text: string, column: string) => string;
  /** Ruby's to_s of the cast value, for Range bounds. Absent: not supported inside a range. */
  readonly toS?: (text: string, column: string) => string;
  /** The identity of an id value, so that `42`, `42.0` and `042` match a numeric key. */
  readonly idKey?: (text: string) => string;
}

/** Ruby's String#to_i (base 10): leading whitespace, sign, digits with single underscores. */
export function rubyStringToI(value: string): string {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+(?:_\d+)*)/.exec(value);
  if (m === null) return '0';
  const n = BigInt((m[2] as string).replace(/_/g, ''));
  return (m[1] === '-' ? -n : n).toString();
}

/** Raised by toI where Ruby's to_i raises (FloatDomainError): the gem could not publish the row. */
export function noInteger(value: string, column: string): Error {
  return new Error(`${column}: Ruby cannot convert ${value} to an integer partition key (to_i raises)`);
}
