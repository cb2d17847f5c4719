import { parseDuration } from '../domain/duration';
import { loadSettings } from '../config/settings';
import { RelayError } from '../errors';
import { OutboxStore } from '../postgres/outbox-store';
import { qualifiedTable } from '../postgres/identifiers';
import { createPool } from '../postgres/pool';
import { handleSignals } from '../lifecycle/signals';
import { createLogger } from '../observability/logger';
import { OutboxRetention } from '../relay/retention';
import type { CliArgs } from './args';

function duration(text: string, flag: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new RelayError('CONFIG_INVALID', `${flag}: ${(err as Error).message}`);
  }
}

/** `dionysus-relay cleanup --older-than 3d`: retention on demand, with progress and safe interruption. */
export async function cleanupCommand(args: CliArgs, env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const settings = loadSettings({ env, configFile: args.configFile, overrides: { 'log.level': args.logLevel } });
  const olderThanMs = duration(args.olderThan as string, '--older-than');
  const batchSize = args.batchSize === undefined ? settings.retention.batchSize : Number(args.batchSize);
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RelayError('CONFIG_INVALID', '--batch-size: must be a positive whole number');
  const pauseMs = args.pause === undefined ? settings.retention.pauseMs : duration(args.pause, '--pause');
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
