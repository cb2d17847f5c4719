import { join } from 'node:path';
import { loadSettings } from '../config/settings';
import { packageRoot } from '../package-root';
import { migrate } from '../postgres/migrator';
import { createSchema } from '../postgres/migrator-sql';
import { createPool, redactUrl } from '../postgres/pool';
import type { CliArgs } from './args';

/** `dionysus-relay migrate`: applies sql/ to DATABASE_SCHEMA; prints what it did. */
export async function migrateCommand(args: CliArgs, env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const settings = loadSettings({ env, configFile: args.configFile, overrides: { 'log.level': args.logLevel } });
  const pool = createPool(settings.database, 'dionysus-relay-migrate');
  try {
    await pool.query(createSchema(settings.database.schema).text);
    const result = await migrate(pool, join(packageRoot(), 'sql'), args.optionalMigrations);
    const where = `${redactUrl(settings.database.url)} schema ${settings.database.schema}`;
    for (const name of result.applied) out(`applied ${name}`);
    out(`${where}: ${result.applied.length} applied, ${result.skipped.length} already present`);
    return 0;
  } finally {
    await pool.end();
  }
}
