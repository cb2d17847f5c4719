import { parseDuration } from '../domain/duration';

/**
 * Strict parsing of one setting or flag value, pure. Env vars, flags and settings-file scalars all
 * arrive as text (a file's `1e3` is read as the text `1e3`, not as YAML's number 1000), so one
 * parser per kind decides for every source, and a value is either exactly what the rule allows or
 * an error: no rounding, no "anything but false is true".
 */

/** Longest delay Node's timers honour; a longer one fires at once (and only warns). */
export const MAX_TIMER_MS = 2_147_483_647;
/** PostgreSQL's integer (the outbox's `attempts`, statement_timeout in ms) ends here. */
export const PG_INT_MAX = 2_147_483_647;

export type ValueRule =
  | { readonly kind: 'integer'; readonly min: number; readonly max: number }
  | { readonly kind: 'decimal'; readonly min: number; readonly max: number }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'choice'; readonly values: readonly string[] }
  | { readonly kind: 'text'; readonly allowEmpty: boolean; readonly pattern?: RegExp; readonly patternHint?: string; readonly maxBytes?: number }
  | { readonly kind: 'duration'; readonly allowEmpty: boolean; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: 'json-object' };

export type ParsedValue = { readonly ok: true; readonly value: string | number | boolean } | { readonly ok: false; readonly reason: string };

const WHOLE_NUMBER = /^[0-9]+$/;
const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;
const TRUE_WORDS = ['true', '1', 'yes'];
const FALSE_WORDS = ['false', '0', 'no'];

/** Parses `text` by `rule`; the reason of a failure reads after the quoted value ("1.5" is not ...). */
export function parseSettingValue(rule: ValueRule, text: string): ParsedValue {
  // Surrounding blanks are a quoting accident (a file read with $(cat), a YAML block); inner ones are not.
  const trimmed = text.trim();
  switch (rule.kind) {
    case 'integer':
      return parseWholeNumber(trimmed, rule.min, rule.max);
    case 'decimal':
      return parseDecimal(trimmed, rule.min, rule.max);
    case 'boolean':
      return parseBoolean(trimmed);
    case 'choice':
      return rule.values.includes(trimmed) ? { ok: true, value: trimmed } : { ok: false, reason: `is not one of: ${rule.values.join(', ')}` };
    case 'text':
      return parseText(trimmed, rule);
    case 'duration':
      return parseDurationValue(trimmed, rule);
    case 'json-object':
      return { ok: true, value: trimmed };
  }
}

/** Digits only, then the range: `1.5`, `1e3`, `+5`, `0x10` and `1_000` are refused, not rounded. */
export function parseWholeNumber(text: string, min: number, max: number): ParsedValue {
  if (!WHOLE_NUMBER.test(text)) {
    const reason = text.startsWith('-') && WHOLE_NUMBER.test(text.slice(1)) ? `is out of range (${range(min, max)})` : `is not a whole number (digits only: no fraction, sign or exponent; ${range(min, max)})`;
    return { ok: false, reason };
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) return { ok: false, reason: `is out of range (${range(min, max)})` };
  return { ok: true, value };
}

function parseDecimal(text: string, min: number, max: number): ParsedValue {
  if (!DECIMAL.test(text)) return { ok: false, reason: `is not a decimal number (like 0.25: no sign or exponent; ${range(min, max)})` };
  const value = Number(text);
  if (value < min || value > max) return { ok: false, reason: `is out of range (${range(min, max)})` };
  return { ok: true, value };
}

/** true/false/1/0/yes/no in any case; anything else is an error (an unknown word is never "on"). */
export function parseBoolean(text: string): ParsedValue {
  const word = text.toLowerCase();
  if (TRUE_WORDS.includes(word)) return { ok: true, value: true };
  if (FALSE_WORDS.includes(word)) return { ok: true, value: false };
  return { ok: false, reason: 'is not a boolean (true, false, 1, 0, yes or no)' };
}

function parseText(text: string, rule: Extract<ValueRule, { kind: 'text' }>): ParsedValue {
  if (text === '') return rule.allowEmpty ? { ok: true, value: '' } : { ok: false, reason: 'must not be empty' };
  if (rule.maxBytes !== undefined && Buffer.byteLength(text) > rule.maxBytes) {
    return { ok: false, reason: `is longer than ${rule.maxBytes} bytes (PostgreSQL would cut the name short)` };
  }
  if (rule.pattern !== undefined && !rule.pattern.test(text)) return { ok: false, reason: `must be ${rule.patternHint ?? `like ${String(rule.pattern)}`}` };
  return { ok: true, value: text };
}

function parseDurationValue(text: string, rule: Extract<ValueRule, { kind: 'duration' }>): ParsedValue {
  if (text === '') return rule.allowEmpty ? { ok: true, value: '' } : { ok: false, reason: 'must not be empty (a duration like 30s, 1h or 3d)' };
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    return { ok: false, reason: 'is not a duration (examples: 500ms, 45s, 30m, 12h, 3d, 1h30m)' };
  }
  if (ms < rule.minMs || ms > rule.maxMs) return { ok: false, reason: `is out of range (${formatMs(rule.minMs)} to ${formatMs(rule.maxMs)})` };
  return { ok: true, value: text };
}

function range(min: number, max: number): string {
  return `${min} to ${max}`;
}

/** A duration bound for messages: whole days, hours, minutes or seconds when it is one, else ms. */
export function formatMs(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** What a rule accepts, for `--help`. */
export function describeRule(rule: ValueRule): string {
  switch (rule.kind) {
    case 'integer':
      return `whole number ${rule.min}..${rule.max}`;
    case 'decimal':
      return `decimal ${rule.min}..${rule.max}`;
    case 'boolean':
      return 'true/false (also 1/0, yes/no)';
    case 'choice':
      return rule.values.join(' | ');
    case 'text':
      return rule.allowEmpty ? 'text, may be empty' : 'text';
    case 'duration':
      return `duration ${formatMs(rule.minMs)}..${formatMs(rule.maxMs)}${rule.allowEmpty ? ' or empty' : ''}`;
    case 'json-object':
      return 'JSON object';
  }
}
