import { loadSettings } from '../config/settings';
import { OutboxStore } from '../postgres/outbox-store';
import { qualifiedTable } from '../postgres/identifiers';
import { createPool } from '../postgres/pool';
import { handleSignals } from '../lifecycle/signals';
import { createLogger } from '../observability/logger';
import { OutboxRetention } from '../relay/retention';
import { settingsOverrides } from '../config/load-configuration';
import type { CliArgs } from './args';
import { cleanupFlags } from './flag-checks';

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
