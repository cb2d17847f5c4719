import { parseWholeNumber } from '../config/setting-values';
import { parseDuration } from '../domain/duration';

/**
 * Genesis (backfill) options, pure: parsing of the command-line flags and the form they are stored
 * in (`dionysus_relay_genesis_runs.options`), so that `--resume` repeats exactly what the run was
 * started with.
 *
 * Glossary of the genesis folder:
 * - run: one genesis of one model to one topic (or topic pair), a row of dionysus_relay_genesis_runs;
 *   a run spans one or more sessions (the first start and each --resume).
 * - page: the next `batchSize` ids after the run's last_id, in id order (keyset pagination).
 * - examined: ids taken from pages so far; sent: records published; skipped: examined but not sent
 *   (outside the --from/--to window, soft-deleted with --visible-only, or gone since the page was read).
 */

/** What a run was started with; stored as JSON and read back by --resume. */
export interface GenesisOptions {
  /** Inclusive lower bound of the record's updated_at (ISO 8601 UTC), or null. */
  readonly from: string | null;
  /** Inclusive upper bound of the record's updated_at (ISO 8601 UTC), or null (the gem's BETWEEN). */
  readonly to: string | null;
  /** Skip soft-deleted records instead of sending them as `_destroyed`. */
  readonly visibleOnly: boolean;
  /** Records examined per second at most; null = as fast as Kafka acknowledges. */
  readonly ratePerSecond: number | null;
  /** The --over duration as given, for display; ratePerSecond holds the pace it was turned into. */
  readonly over: string | null;
  /** Ids per page. */
  readonly batchSize: number;
}

/** Flag values as the command line gave them (undefined = not given). */
export interface GenesisFlags {
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly visibleOnly?: boolean | undefined;
  readonly rate?: string | undefined;
  readonly over?: string | undefined;
  readonly batchSize?: string | undefined;
}

/** A flag with a bad value, or a run or target that does not exist: a usage error (exit 2). */
export class GenesisUsageError extends Error {}

export const DEFAULT_GENESIS_BATCH_SIZE = 500;
/** Ids per page at most: a page's ids travel as one array parameter of the serializer. */
export const MAX_GENESIS_BATCH_SIZE = 100_000;

/** Parsed flags of a new run; `overMs` still needs the run's total to become a rate. */
export interface ParsedGenesisFlags {
  readonly from: string | null;
  readonly to: string | null;
  readonly visibleOnly: boolean;
  readonly ratePerSecond: number | null;
  readonly overMs: number | null;
  readonly over: string | null;
  readonly batchSize: number;
}

export function parseGenesisFlags(flags: GenesisFlags): ParsedGenesisFlags {
  if (flags.rate !== undefined && flags.over !== undefined) {
    throw new GenesisUsageError('--rate and --over are alternatives: give one of them');
  }
  const from = flags.from === undefined ? null : parseTimestamp(flags.from, '--from');
  const to = flags.to === undefined ? null : parseTimestamp(flags.to, '--to');
  if (from !== null && to !== null && Date.parse(from) > Date.parse(to)) {
    throw new GenesisUsageError(`--from ${from} is after --to ${to}`);
  }
  let overMs: number | null = null;
  if (flags.over !== undefined) {
    try {
      overMs = parseDuration(flags.over);
    } catch (err) {
      throw new GenesisUsageError(`--over: ${(err as Error).message}`);
    }
    if (overMs <= 0) throw new GenesisUsageError('--over: must be longer than 0');
  }
  return {
    from,
    to,
    visibleOnly: flags.visibleOnly === true,
    ratePerSecond: flags.rate === undefined ? null : parseRate(flags.rate),
    overMs,
    over: flags.over ?? null,
    batchSize: flags.batchSize === undefined ? DEFAULT_GENESIS_BATCH_SIZE : parseBatchSize(flags.batchSize),
  };
}

const RATE = /^(\d+(?:\.\d+)?)(?:\/(s|sec|m|min|h))?$/;
const PER_SECOND: Record<string, number> = { s: 1, sec: 1, m: 1 / 60, min: 1 / 60, h: 1 / 3600 };

/** `200/s`, `200` (per second), `600/m`, `10000/h` → records per second. */
export function parseRate(text: string): number {
  const m = RATE.exec(text.trim());
  const value = m === null ? NaN : Number(m[1]) * (PER_SECOND[m[2] ?? 's'] as number);
  if (!Number.isFinite(value) || value <= 0) {
    throw new GenesisUsageError(`--rate: "${text}" is not a rate (examples: 200/s, 600/m, 10000/h)`);
  }
  return value;
}

const ISO_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO 8601 date or timestamp → the same instant as `YYYY-MM-DDTHH:MM:SS.mmmZ`. A timestamp
 * without a zone is UTC (as the application's columns are), never the local time of the machine.
 */
export function parseTimestamp(text: string, flag: string): string {
  const m = ISO_TIMESTAMP.exec(text.trim());
  if (m !== null) {
    const [, date, time, zone] = m;
    // JS Date keeps milliseconds only; extra fractional digits are cut, not rounded.
    const clock = (time ?? '00:00').replace(/(\.\d{3})\d+$/, '$1');
    const ms = Date.parse(`${date}T${clock}${zone === undefined ? 'Z' : zone.toUpperCase()}`);
    if (!Number.isNaN(ms) && isCalendarDate(date as string)) return new Date(ms).toISOString();
  }
  throw new GenesisUsageError(`${flag}: "${text}" is not an ISO 8601 timestamp (examples: 2024-01-31, 2024-01-31T12:00:00Z)`);
}

/** Date.parse rolls 2024-02-31 over into March; a day the month does not have is refused instead. */
function isCalendarDate(date: string): boolean {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const parsed = new Date(Date.UTC(year, month - 1, day));
  return parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === day;
}

function parseBatchSize(text: string): number {
  const parsed = parseWholeNumber(text.trim(), 1, MAX_GENESIS_BATCH_SIZE);
  if (!parsed.ok) throw new GenesisUsageError(`--batch-size: "${text}" ${parsed.reason}`);
  return parsed.value as number;
}

/** A `--resume` value: the run's id, a number. */
export function parseRunId(text: string): string {
  const id = text.trim();
  if (!/^\d{1,18}$/.test(id)) throw new GenesisUsageError(`--resume: "${text}" is not a run id (a number)`);
  return id;
}

/** The stored options of a new run: --over becomes the rate that spreads `total` over that time. */
export function optionsForNewRun(flags: ParsedGenesisFlags, total: number | null): GenesisOptions {
  let ratePerSecond = flags.ratePerSecond;
  if (flags.overMs !== null) {
    if (total === null) {
      throw new GenesisUsageError('--over needs the number of records, which could not be counted in time; use --rate instead');
    }
    ratePerSecond = spreadRate(total, flags.overMs);
  }
  return { from: flags.from, to: flags.to, visibleOnly: flags.visibleOnly, ratePerSecond, over: flags.over, batchSize: flags.batchSize };
}

/** Records per second that send `total` records in `overMs` (never 0, so a run always progresses). */
export function spreadRate(total: number, overMs: number): number {
  return Math.max(total, 1) / (overMs / 1000);
}

/** Reads stored options back, tolerating keys a later version may add. */
export function parseStoredOptions(json: unknown): GenesisOptions {
  const o = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const positive = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null);
  return {
    from: text(o['from']),
    to: text(o['to']),
    visibleOnly: o['visibleOnly'] === true,
    ratePerSecond: positive(o['ratePerSecond']),
    over: text(o['over']),
    batchSize: Math.floor(positive(o['batchSize']) ?? DEFAULT_GENESIS_BATCH_SIZE),
  };
}

/** One line describing the options, for the start message. */
export function describeOptions(options: GenesisOptions): string {
  const parts: string[] = [];
  if (options.from !== null || options.to !== null) parts.push(`updated_at ${options.from ?? '-∞'} .. ${options.to ?? '+∞'}`);
  parts.push(options.visibleOnly ? 'visible records only' : 'soft-deleted records as _destroyed');
  if (options.ratePerSecond !== null) {
    parts.push(`at most ${formatPace(options.ratePerSecond)} records/s${options.over === null ? '' : ` (spread over ${options.over})`}`);
  }
  parts.push(`${options.batchSize} per page`);
  return parts.join(', ');
}

function formatPace(rate: number): string {
  return rate >= 10 ? String(Math.round(rate)) : String(Math.round(rate * 100) / 100);
}
