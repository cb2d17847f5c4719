/**
 * Timestamps of records (`updated_at`, `created_at`) as comparable numbers, for the in-batch
 * de-duplication (the ordering guard itself compares in SQL). Rails writes ISO 8601 with three
 * fractional digits and `Z`, or with an offset when the producer's zone is not UTC; up to nine
 * fractional digits are read, and a time without a zone is UTC (as the sink's connections are).
 */

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Microseconds since the epoch, or undefined when the value is not such a timestamp. */
export function timestampMicros(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = ISO_8601.exec(value.trim());
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction = '', zone = 'Z'] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 60) return undefined;
  const millis = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s));
  const micros = Number(fraction.padEnd(6, '0').slice(0, 6));
  return (millis - offsetMinutes(zone) * 60_000) * 1000 + micros;
}

function offsetMinutes(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
}
