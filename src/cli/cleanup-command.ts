import { parseDuration } from '../domain/duration';
import { loadSettings } from '../config/settings';
import { MAX_TIMER_MS, type ValueRule } from '../config/setting-values';
import { settingsSchema, type SettingSpec } from '../config/settings-schema';
import { OutboxStore } from '../postgres/outbox-store';
import { qualifiedTable } from '../postgres/outbox-sql';
import { createPool } from '../postgres/pool';
import { handleSignals } from '../lifecycle/signals';
import { createLogger } from '../observability/logger';
import { OutboxRetention } from '../relay/retention';
import { parseFlagValue, settingsOverrides, type CliArgs } from './args';

/** A pause between two deletes: any duration a timer can wait. */
const PAUSE_RULE: ValueRule = { kind: 'duration', allowEmpty: false, minMs: 0, maxMs: MAX_TIMER_MS };

/** Flags of cleanup, checked before anything is loaded, by the rules of the retention settings they stand in for. */
function cleanupFlags(args: CliArgs): { olderThanMs: number; batchSize?: number; pauseMs?: number } {
  const retentionRule = (key: string): ValueRule => (settingsSchema['retention']?.[key] as SettingSpec).rule;
  const duration = (flag: string, rule: ValueRule, text: string): number => parseDuration(String(parseFlagValue('cleanup', flag, rule, text)));
  return {
    olderThanMs: duration('--older-than', retentionRule('olderThan'), args.olderThan as string),
    ...(args.batchSize === undefined ? {} : { batchSize: parseFlagValue('cleanup', '--batch-size', retentionRule('batchSize'), args.batchSize) as number }),
    ...(args.pause === undefined ? {} : { pauseMs: duration('--pause', PAUSE_RULE, args.pause) }),
  };
}

/** `dionysus-relay cleanup --older-than 3d`: retention on demand, with progress and safe interruption. */
export async function cleanupCommand(args: CliArgs, env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const flags = cleanupFlags(args);
  const settings = loadSettings({ env, configFile: args.configFile, overrides: settingsOverrides(args) });
  const { olderThanMs } = flags;
  const batchSize = flags.batchSize ?? settings.retention.batchSize;
  const pauseMs = flags.pauseMs ?? settings.retention.pauseMs;
  const pool = createPool(settings.database, 'dionysus-relay-cleanup');
  const store = new OutboxStore(pool, qualifiedTable(settings.database.schema, settings.database.table));
  const retention = new OutboxRetention(store, { olderThanMs, batchSize, pauseMs }, createLogger(settings.log));
  const removeHandlers = handleSignals(() => {
    out('interrupted: stopping after the current batch');
    void retention.stop();
  });
  try {
    out(`deleting published rows older than ${args.olderThan} from ${settings.database.schema}.${settings.database.table} (${batchSize} per batch)`);
    const deleted = await retention.runOnce((soFar) => out(`  deleted ${soFar} so far`));
    out(`deleted ${deleted} published row(s); unpublished rows untouched`);
    return 0;
  } finally {
    removeHandlers();
    await pool.end();
  }
}
