// Dates, times and intervals: PostgreSQL's text (DateStyle ISO, IntervalStyle iso_8601, TimeZone
// UTC, all pinned per connection) → what ActiveRecord 6.1 makes of it → ActiveSupport's JSON.
//
// - timestamp / timestamptz → TimeWithZone in UTC → `xmlschema(3)`: `2024-01-01T10:00:00.123Z`,
//   fraction truncated to milliseconds; BC years are astronomical (`0044 BC` → `-0043`), years
//   after 9999 keep all their digits; `infinity` / `-infinity` become Float::INFINITY → `null`;
// - date → Date → `%Y-%m-%d`, the same year rules; Ruby's Date uses the Julian calendar before
//   1582-10-15, so the ten days that calendar skips are invalid dates there and read as nil;
// - time → a time on 2000-01-01 (`24:00:00` is the next day) → xmlschema(3);
// - interval → ActiveSupport::Duration → `to_i`, whole seconds.
// Ruby's Time is proleptic Gregorian like PostgreSQL, so day arithmetic below is too.
import { EncodingError } from '../rails-json';

const TIMESTAMP = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([+-])(\d\d)(?::?(\d\d)(?::?(\d\d))?)?)?( BC)?$/;
const DATE = /^(\d{4,})-(\d\d)-(\d\d)( BC)?$/;
const TIME = /^(\d\d):(\d\d):(\d\d)(?:\.(\d+))?$/;

/** A point in time as Ruby holds it after ActiveRecord's cast: UTC fields and milliseconds. */
export interface RubyTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millis: number;
  /** Whole seconds since the epoch (Time#to_i). */
  readonly epochSeconds: number;
}

function badText(kind: string, text: string, column: string): EncodingError {
  return new EncodingError(`unexpected PostgreSQL ${kind} text ${JSON.stringify(text)} (the relay's sessions pin DateStyle ISO)`, column);
}

/** Days from 1970-01-01 to a proleptic Gregorian date (any year, astronomical numbering). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function fromEpochSeconds(seconds: number, millis: number): RubyTime {
  const days = Math.floor(seconds / 86400);
  const rest = seconds - days * 86400;
  const { year, month, day } = civilFromDays(days);
  return {
    year,
    month,
    day,
    hour: Math.floor(rest / 3600),
    minute: Math.floor((rest % 3600) / 60),
    second: rest % 60,
    millis,
    epochSeconds: seconds,
  };
}

/** First three fraction digits, truncated (Ruby's %3N): '5' → 500, '123999' → 123. */
function millisOf(fraction: string | undefined): number {
  return fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
}

/** Ruby's %Y: at least four digits, a minus sign before BC years. */
function rubyYear(year: number): string {
  return year < 0 ? `-${String(-year).padStart(4, '0')}` : String(year).padStart(4, '0');
}

const two = (n: number): string => String(n).padStart(2, '0');

/** Time#xmlschema(3) in UTC, what ActiveSupport writes for a time. */
export function xmlschema(t: RubyTime): string {
  return `${rubyYear(t.year)}-${two(t.month)}-${two(t.day)}T${two(t.hour)}:${two(t.minute)}:${two(t.second)}.${String(t.millis).padStart(3, '0')}Z`;
}

/** Time#to_s of a UTC time (how a Range prints its bounds): `2024-01-01 10:00:00 UTC`. */
export function rubyTimeToS(t: RubyTime): string {
  return `${rubyYear(t.year)}-${two(t.month)}-${two(t.day)} ${two(t.hour)}:${two(t.minute)}:${two(t.second)} UTC`;
}

/**
 * A timestamp / timestamptz text as a Ruby time; 'infinity' for ±infinity (Float::INFINITY).
 * Throws EncodingError for a shape DateStyle ISO never prints.
 */
export function parseTimestamp(text: string, column: string): RubyTime | 'infinity' | '-infinity' {
  if (text === 'infinity' || text === '-infinity') return text;
  const m = TIMESTAMP.exec(text);
  if (m === null) throw badText('timestamp', text, column);
  const bc = m[12] !== undefined;
  const year = bc ? 1 - Number(m[1]) : Number(m[1]);
  const offset = m[8] === undefined ? 0 : (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0));
  const seconds = daysFromCivil(year, Number(m[2]), Number(m[3])) * 86400 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]) - offset;
  return fromEpochSeconds(seconds, millisOf(m[7]));
}

/**
 * The text almost every timestamp has: a four-digit year (0001-9999, AD), no offset or the session's
 * `+00`. Its xmlschema(3) form is the same characters rearranged, so it is written without
 * computing the fields (the full parse gives the same bytes, at several times the price a value).
 */
const PLAIN_UTC_TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?(?:\+00)?$/;

/** timestamp / timestamptz → Rails JSON. */
export function timestampJson(text: string, column: string): string {
  if (PLAIN_UTC_TIMESTAMP.test(text)) {
    const end = text.endsWith('+00') ? text.length - 3 : text.length;
    const millis = end > 20 ? text.slice(20, Math.min(end, 23)).padEnd(3, '0') : '000';
    return `"${text.slice(0, 10)}T${text.slice(11, 19)}.${millis}Z"`;
  }
  const t = parseTimestamp(text, column);
  return typeof t === 'string' ? 'null' : `"${xmlschema(t)}"`;
}

/** A date as Ruby's Date holds it: its text, or null when Ruby has no such date. */
export function parseDate(text: string, column: string): string | 'infinity' | '-infinity' | null {
  if (text === 'infinity' || text === '-infinity') return text;
  const m = DATE.exec(text);
  if (m === null) throw badText('date', text, column);
  const year = m[4] === undefined ? Number(m[1]) : 1 - Number(m[1]);
  if (year === 1582 && m[2] === '10' && Number(m[3]) >= 5 && Number(m[3]) <= 14) return null;
  return `${rubyYear(year)}-${m[2]}-${m[3]}`;
}

export function dateJson(text: string, column: string): string {
  const d = parseDate(text, column);
  return d === null || d === 'infinity' || d === '-infinity' ? 'null' : `"${d}"`;
}

/** time (without time zone) → a time on 2000-01-01 in UTC. */
export function parseTime(text: string, column: string): RubyTime {
  const m = TIME.exec(text);
  if (m === null) throw badText('time', text, column);
  const seconds = daysFromCivil(2000, 1, 1) * 86400 + Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
  return fromEpochSeconds(seconds, millisOf(m[4]));
}

export function timeJson(text: string, column: string): string {
  return `"${xmlschema(parseTime(text, column))}"`;
}

const DATE_PARTS: Readonly<Record<string, number>> = { Y: 31556952, M: 2629746, W: 604800, D: 86400 };
const TIME_PARTS: Readonly<Record<string, number>> = { H: 3600, M: 60, S: 1 };
const COMPONENT = /(-?\d+(?:[.,]\d+)?)([A-Z])/y;

/**
 * An ISO 8601 interval (IntervalStyle iso_8601, as ActiveRecord sets it) → Duration#to_i, or
 * null when ActiveSupport's parser refuses it (ActiveRecord then reads nil). The parts are summed
 * in text order as Ruby does: exact integers until a fractional part turns the sum into a Float.
 */
export function intervalSeconds(text: string): string | null {
  let pos = 0;
  let sign = 1;
  if (text[0] === '-' || text[0] === '+') {
    sign = text[0] === '-' ? -1 : 1;
    pos = 1;
  }
  if (text[pos] !== 'P') return null;
  pos += 1;
  let table = DATE_PARTS;
  let inTime = false;
  const parts: Array<{ unit: string; value: string }> = [];
  while (pos < text.length) {
    if (!inTime && text[pos] === 'T') {
      inTime = true;
      table = TIME_PARTS;
      pos += 1;
      continue;
    }
    COMPONENT.lastIndex = pos;
    const m = COMPONENT.exec(text);
    const factor = m === null ? undefined : table[m[2] as string];
    if (m === null || factor === undefined) return null;
    parts.push({ unit: `${inTime ? 'T' : ''}${m[2]}`, value: m[1] as string });
    pos = COMPONENT.lastIndex;
  }
  if (parts.length === 0 || (inTime && !parts.some((p) => p.unit.startsWith('T')))) return null;
  if (parts.some((p) => p.unit === 'W') && parts.some((p) => p.unit !== 'W' && !p.unit.startsWith('T'))) return null;
  const fractional = parts.filter((p) => /[.,]/.test(p.value) && Number(p.value.replace(',', '.')) % 1 !== 0);
  const nonZero = parts.filter((p) => Number(p.value.replace(',', '.')) !== 0);
  if (fractional.length > 1 || (fractional.length === 1 && fractional[0] !== nonZero[nonZero.length - 1])) return null;
  let exact = 0n;
  let float: number | undefined;
  for (const p of parts) {
    const factor = (p.unit.startsWith('T') ? TIME_PARTS[p.unit.slice(1)] : DATE_PARTS[p.unit]) as number;
    if (/[.,]/.test(p.value)) {
      const product = Number(p.value.replace(',', '.')) * sign * factor;
      float = (float ?? Number(exact)) + product;
    } else if (float !== undefined) {
      float += Number(BigInt(p.value) * BigInt(sign * factor));
    } else {
      exact += BigInt(p.value) * BigInt(sign * factor);
    }
  }
  return float === undefined ? exact.toString() : BigInt(Math.trunc(float)).toString();
}
