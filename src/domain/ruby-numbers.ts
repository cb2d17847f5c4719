/**
 * Numbers as Rails prints them, which JS cannot do with plain numbers:
 * - Postgres numeric → ActiveRecord BigDecimal → ActiveSupport's `to_s("F")`, a JSON string with
 *   trailing fractional zeros dropped but one fractional digit kept ("12.50" → "12.5",
 *   "100" → "100.0"); NaN and infinities encode as null (BigDecimal#as_json);
 * - float4/float8 → Ruby Float#to_s: shortest round-trip digits like JS, but integral values keep
 *   ".0" (2.0), and the switch to exponent form happens at other thresholds with a signed,
 *   two-digit exponent (1.0e+16, 1.0e-05).
 */

/** A JSON fragment the encoder writes as is (already in Rails' form). */
export class RawJson {
  constructor(readonly json: string) {}
}

/** Postgres numeric text → Rails' BigDecimal string, or null for NaN/±Infinity. */
export function formatPgNumeric(text: string): string | null {
  if (!/^-?\d+(\.\d+)?$/.test(text)) return null; // NaN, Infinity, -Infinity
  const negative = text.startsWith('-');
  const [intPartRaw = '0', fracRaw = ''] = (negative ? text.slice(1) : text).split('.');
  const intPart = intPartRaw.replace(/^0+(?=\d)/, '');
  const frac = fracRaw.replace(/0+$/, '') || '0';
  const isZero = /^0+$/.test(intPart) && frac === '0';
  return `${negative && !isZero ? '-' : ''}${intPart}.${frac}`;
}

/** A float as Ruby's Float#to_s prints it; null for NaN/±Infinity (Float#as_json). */
export function formatRubyFloat(value: number): string | null {
  if (!Number.isFinite(value)) return null;
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  // toExponential() without digits gives the shortest round-trip digits, as Ruby uses.
  const [mantissa = '', exponentText = '0'] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const decpt = Number(exponentText) + 1; // position of the decimal point after the first digit
  const sign = value < 0 ? '-' : '';
  if (decpt > 0 && decpt <= 16) {
    if (digits.length <= decpt) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
    return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  if (decpt <= 0 && decpt > -4) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  const exp = decpt - 1;
  const expText = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return `${sign}${digits[0]}.${digits.slice(1) || '0'}e${expText}`;
}
