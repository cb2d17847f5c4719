import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIGURATION_ERROR_CODES, RelayError, errorMessage } from '../errors';
import { runRelay, runSink } from '../main';
import { packageRoot } from '../package-root';
import { UsageError, helpText, parseCli } from './args';
import { checkCommand } from './check-command';
import { cleanupCommand } from './cleanup-command';
import { genesisCommand } from './genesis-command';
import { tombstoneCommand } from './tombstone-command';
import { migrateCommand } from './migrate-command';

/** Exit codes: 0 done, 1 runtime failure, 2 usage or configuration error (a dependency refusing our credentials included). */
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
    const configError = CONFIGURATION_ERROR_CODES.has(err.code);
    const rejected = err.code === 'POSTGRES_REJECTED' || err.code === 'KAFKA_REJECTED';
    const headline = rejected ? 'refused by a dependency' : configError ? 'invalid configuration' : 'cannot start';
    process.stderr.write(`dionysus-relay: ${headline} [${err.code}]\n`);
    for (const line of err.message.split('\n')) process.stderr.write(`  ${line}\n`);
    return configError ? 2 : 1;
  }
  process.stderr.write(`dionysus-relay: ${errorMessage(err)}\n`);
  return 1;
}
