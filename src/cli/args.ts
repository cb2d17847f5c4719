import { parseArgs } from 'node:util';
import { describeSettings } from '../config/settings';

export type Command = 'run' | 'migrate' | 'check' | 'help' | 'version';

export interface CliArgs {
  command: Command;
  /** `help <command>` or `<command> --help`. */
  helpFor?: Command | undefined;
  configFile?: string | undefined;
  topicsFile?: string | undefined;
  logLevel?: string | undefined;
  exitWhenIdle: boolean;
  optionalMigrations: string[];
}

export class UsageError extends Error {}

const COMMON_OPTIONS = {
  config: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const OPTIONS = {
  run: { ...COMMON_OPTIONS, topics: { type: 'string' }, 'exit-when-idle': { type: 'boolean' } },
  migrate: { ...COMMON_OPTIONS, with: { type: 'string', multiple: true } },
  check: { ...COMMON_OPTIONS, topics: { type: 'string' } },
} as const;

export function parseCli(argv: readonly string[]): CliArgs {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const target = first === 'help' ? rest[0] : undefined;
    return { command: 'help', helpFor: isCommand(target) ? target : undefined, exitWhenIdle: false, optionalMigrations: [] };
  }
  if (first === '--version' || first === 'version') return { command: 'version', exitWhenIdle: false, optionalMigrations: [] };
  if (!isCommand(first) || first === 'help' || first === 'version') {
    throw new UsageError(`unknown command "${first}" (commands: run, migrate, check; see --help)`);
  }
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...rest], options: OPTIONS[first], allowPositionals: false, strict: true }));
  } catch (err) {
    throw new UsageError(`${first}: ${(err as Error).message}`);
  }
  if (values['help'] === true) return { command: 'help', helpFor: first, exitWhenIdle: false, optionalMigrations: [] };
  return {
    command: first,
    configFile: values['config'] as string | undefined,
    topicsFile: values['topics'] as string | undefined,
    logLevel: values['log-level'] as string | undefined,
    exitWhenIdle: values['exit-when-idle'] === true,
    optionalMigrations: (values['with'] as string[] | undefined) ?? [],
  };
}

function isCommand(value: string | undefined): value is Command {
  return value === 'run' || value === 'migrate' || value === 'check' || value === 'help' || value === 'version';
}

const COMMON_HELP = `  --config FILE      settings file (YAML or JSON, sections as below); env vars override it
  --log-level LEVEL  fatal, error, warn, info, debug, trace or silent (env LOG_LEVEL)
  -h, --help         this help`;

const COMMAND_HELP: Record<'run' | 'migrate' | 'check', string> = {
  run: `dionysus-relay run [options]

Publishes pending dionysus_outboxes rows to Kafka until stopped (SIGTERM/SIGINT drain gracefully).
Rows are claimed in batches with FOR UPDATE SKIP LOCKED, so several relays may run on one table.

  --topics FILE      topics YAML (env TOPICS_FILE, default config/topics.yaml)
  --exit-when-idle   publish what is pending, then exit 0 (jobs, tests)
${COMMON_HELP}`,
  migrate: `dionysus-relay migrate [options]

Creates dionysus_outboxes (as the gem's migration does) and the relay's bookkeeping table in
DATABASE_SCHEMA, if missing. Safe to run again; never changes an existing outbox table.

  --with NAME        also apply sql/optional/NAME.sql (repeatable)
${COMMON_HELP}`,
  check: `dionysus-relay check [options]

Validates settings and the topics YAML, then checks them against the live systems: every
serializer runs and returns an id column, and every topic is reachable in Kafka. Exits non-zero
with one line per problem.

  --topics FILE      topics YAML (env TOPICS_FILE, default config/topics.yaml)
${COMMON_HELP}`,
};

export function helpText(command?: Command): string {
  if (command === 'run' || command === 'migrate' || command === 'check') {
    return `${COMMAND_HELP[command]}\n\nSettings (env var, key, default):\n${describeSettings().join('\n')}\n`;
  }
  return `dionysus-relay: publishes the dionysus-rb transactional outbox (dionysus_outboxes) to Kafka,
wire-compatible with the Ruby gem's worker.

Usage: dionysus-relay <command> [options]

Commands:
  run       publish pending rows until stopped (or until idle with --exit-when-idle)
  migrate   create the outbox table and the relay's bookkeeping table if missing
  check     validate the configuration against PostgreSQL and Kafka
  help      this text; "help <command>" or "<command> --help" for a command's options
  version   print the version

Configuration comes from env vars (see "dionysus-relay run --help"), an optional --config file,
and the topics YAML (TOPICS_FILE).
`;
}
