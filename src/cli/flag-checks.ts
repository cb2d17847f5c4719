import type { parseArgs } from 'node:util';
import { MAX_TIMER_MS, parseSettingValue, type ValueRule } from '../config/setting-values';
import { settingsSchema, type SettingSpec } from '../config/settings-schema';
import { parseDuration } from '../domain/duration';
import type { CliArgs, WorkCommand } from './args';
import { UsageError } from './usage-error';

/**
 * Checks of command-line flags, pure, run before any settings are loaded or connection opened: a
 * mistyped flag value is a usage error (exit 2) naming the flag, never a connection failure.
 */

/** A flag that takes one value may be given once (the last would silently win), and never empty. */
export function checkGivenFlags(command: WorkCommand, options: Readonly<Record<string, { type: string; multiple?: boolean }>>, tokens: ReturnType<typeof parseArgs>['tokens']): void {
  const seen = new Set<string>();
  for (const token of tokens ?? []) {
    if (token.kind !== 'option') continue;
    const option = options[token.name];
    if (option?.type === 'string' && (token.value ?? '').trim() === '') throw new UsageError(`${command}: ${token.rawName} needs a value, got an empty one`);
    if (option?.multiple === true) continue;
    if (seen.has(token.name)) throw new UsageError(`${command}: ${token.rawName} is given twice (give it once)`);
    seen.add(token.name);
  }
}

/** A flag's value parsed by a settings rule; a value the rule refuses is a usage error (exit 2). */
export function parseFlagValue(command: WorkCommand, flag: string, rule: ValueRule, text: string): string | number | boolean {
  const parsed = parseSettingValue(rule, text);
  if (!parsed.ok) throw new UsageError(`${command} ${flag}: ${JSON.stringify(text)} ${parsed.reason}`);
  return parsed.value;
}

/** A pause between two deletes: any duration a timer can wait. */
const PAUSE_RULE: ValueRule = { kind: 'duration', allowEmpty: false, minMs: 0, maxMs: MAX_TIMER_MS };

/** Flags of cleanup, checked before anything is loaded, by the rules of the retention settings they stand in for. */
export function cleanupFlags(args: CliArgs): { olderThanMs: number; batchSize?: number; pauseMs?: number } {
  const retentionRule = (key: string): ValueRule => (settingsSchema['retention']?.[key] as SettingSpec).rule;
  const duration = (flag: string, rule: ValueRule, text: string): number => parseDuration(String(parseFlagValue('cleanup', flag, rule, text)));
  return {
    olderThanMs: duration('--older-than', retentionRule('olderThan'), args.olderThan as string),
    ...(args.batchSize === undefined ? {} : { batchSize: parseFlagValue('cleanup', '--batch-size', retentionRule('batchSize'), args.batchSize) as number }),
    ...(args.pause === undefined ? {} : { pauseMs: duration('--pause', PAUSE_RULE, args.pause) }),
  };
}

/** Every `--with` names an optional migration, once. */
export function checkOptionalNames(given: readonly string[], valid: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of given) {
    if (!valid.includes(name)) throw new UsageError(`migrate --with ${name}: unknown optional migration (valid names: ${valid.join(', ') || 'none'})`);
    if (seen.has(name)) throw new UsageError(`migrate --with ${name} is given twice`);
    seen.add(name);
  }
}
