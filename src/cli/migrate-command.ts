import { join } from 'node:path';
import { loadSettings } from '../config/settings';
import { packageRoot } from '../package-root';
import { migrate, optionalMigrationNames } from '../postgres/migrator';
import { createPool, redactUrl } from '../postgres/pool';
import { settingsOverrides } from '../config/load-configuration';
import type { CliArgs } from './args';
import { checkOptionalNames } from './flag-checks';

/** `dionysus-relay migrate`: applies sql/ to DATABASE_SCHEMA; prints what it did. */
export async function migrateCommand(args: CliArgs, env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const sqlDir = join(packageRoot(), 'sql');
  checkOptionalNames(args.optionalMigrations, optionalMigrationNames(sqlDir));
  const settings = loadSettings({ env, configFile: args.configFile, overrides: settingsOverrides(args) });
  const pool = createPool(settings.database, 'dionysus-relay-migrate');
  try {
    const result = await migrate(pool, sqlDir, args.optionalMigrations, settings.database.schema);
    const where = `${redactUrl(settings.database.url)} schema ${settings.database.schema}`;
    for (const name of result.applied) out(`applied ${name}`);
    out(`${where}: ${result.applied.length} applied, ${result.skipped.length} already present`);
    return 0;
  } finally {
    await pool.end();
  }
}
