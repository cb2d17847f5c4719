import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RelayError, errorMessage } from '../errors';
import { runRelay, runSink } from '../main';
import { packageRoot } from '../package-root';
import { UsageError, helpText, parseCli } from './args';
import { checkCommand } from './check-command';
import { cleanupCommand } from './cleanup-command';
import { genesisCommand } from './genesis-command';
import { tombstoneCommand } from './tombstone-command';
import { migrateCommand } from './migrate-command';

/** Exit codes: 0 done, 1 runtime failure, 2 usage or configuration error. */
export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  try {
    const args = parseCli(argv);
    switch (args.command) {
      case 'help':
        out(helpText(args.helpFor));
        return 0;
      case 'version':
        out(String((JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version));
        return 0;
      case 'migrate':
        return await migrateCommand(args, env, out);
      case 'check':
        return await checkCommand(args, env, out);
      case 'tombstone':
        return await tombstoneCommand(args, env, out);
      case 'cleanup':
        return await cleanupCommand(args, env, out);
      case 'genesis':
        return await genesisCommand(args, env, out);
      case 'run':
        return await runRelay(args, env);
      case 'sink':
        return await runSink(args, env);
    }
  } catch (err) {
    return reportStartupError(err);
  }
}

/** One clear message per problem on stderr; a stack trace only with LOG_LEVEL=debug. */
function reportStartupError(err: unknown): number {
  if (err instanceof UsageError) {
    process.stderr.write(`dionysus-relay: ${err.message}\n`);
    return 2;
  }
  if (err instanceof RelayError) {
    const configError = err.code === 'CONFIG_INVALID' || err.code === 'TOPICS_FILE_INVALID' || err.code === 'SINK_FILE_INVALID';
    process.stderr.write(`dionysus-relay: ${configError ? 'invalid configuration' : 'cannot start'} [${err.code}]\n`);
    for (const line of err.message.split('\n')) process.stderr.write(`  ${line}\n`);
    return configError ? 2 : 1;
  }
  process.stderr.write(`dionysus-relay: ${errorMessage(err)}\n`);
  return 1;
}
