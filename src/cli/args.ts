import { parseArgs } from 'node:util';
import { describeSettings } from '../config/settings';
import { checkGivenFlags } from './flag-checks';
import { UsageError } from './usage-error';

export type Command = 'run' | 'sink' | 'migrate' | 'check' | 'tombstone' | 'cleanup' | 'genesis' | 'help' | 'version';
export type WorkCommand = Exclude<Command, 'help' | 'version'>;

export interface CliArgs {
  command: Command;
  /** `help <command>` or `<command> --help`. */
  helpFor?: Command | undefined;
  configFile?: string | undefined;
  topicsFile?: string | undefined;
  /** sink, check: the sink YAML (`--sink`). */
  sinkFile?: string | undefined;
  logLevel?: string | undefined;
  exitWhenIdle: boolean;
  /** run --migrate: apply the default migrations once PostgreSQL answers, before publishing. */
  migrateAtStart?: boolean;
  optionalMigrations: string[];
  /** tombstone */
  topic?: string | undefined;
  model?: string | undefined;
  id?: string | undefined;
  partitionKey?: string | undefined;
  legacyNull?: boolean;
  /** tombstone: send although the topic or model is not in the topics YAML. */
  force?: boolean;
  /** cleanup */
  olderThan?: string | undefined;
  /** cleanup, genesis */
  batchSize?: string | undefined;
  pause?: string | undefined;
  /** genesis (also topic, model, batchSize) */
  from?: string | undefined;
  to?: string | undefined;
  visibleOnly?: boolean;
  rate?: string | undefined;
  over?: string | undefined;
  resume?: string | undefined;
}

export { UsageError } from './usage-error';

const COMMON_OPTIONS = {
  config: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const OPTIONS = {
  run: { ...COMMON_OPTIONS, topics: { type: 'string' }, 'exit-when-idle': { type: 'boolean' }, migrate: { type: 'boolean' } },
  sink: { ...COMMON_OPTIONS, sink: { type: 'string' } },
  migrate: { ...COMMON_OPTIONS, with: { type: 'string', multiple: true } },
  check: { ...COMMON_OPTIONS, topics: { type: 'string' }, sink: { type: 'string' } },
  tombstone: {
    ...COMMON_OPTIONS,
    topics: { type: 'string' },
    topic: { type: 'string' },
    model: { type: 'string' },
    id: { type: 'string' },
    'partition-key': { type: 'string' },
    'legacy-null': { type: 'boolean' },
    force: { type: 'boolean' },
  },
  cleanup: { ...COMMON_OPTIONS, 'older-than': { type: 'string' }, 'batch-size': { type: 'string' }, pause: { type: 'string' } },
  genesis: {
    ...COMMON_OPTIONS,
    topics: { type: 'string' },
    topic: { type: 'string' },
    model: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'visible-only': { type: 'boolean' },
    rate: { type: 'string' },
    over: { type: 'string' },
    resume: { type: 'string' },
    'batch-size': { type: 'string' },
  },
} as const;

const REQUIRED: Partial<Record<WorkCommand, string[]>> = {
  tombstone: ['topic', 'model', 'id'],
  cleanup: ['older-than'],
};

export function parseCli(argv: readonly string[]): CliArgs {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const target = first === 'help' ? rest[0] : undefined;
    return { command: 'help', helpFor: isCommand(target) ? target : undefined, exitWhenIdle: false, optionalMigrations: [] };
  }
  if (first === '--version' || first === 'version') return { command: 'version', exitWhenIdle: false, optionalMigrations: [] };
  if (!isCommand(first) || first === 'help' || first === 'version') {
    throw new UsageError(`unknown command "${first}" (commands: run, sink, migrate, check, tombstone, cleanup, genesis; see --help)`);
  }
  let values: Record<string, unknown>;
  let tokens: ReturnType<typeof parseArgs>['tokens'];
  try {
    ({ values, tokens } = parseArgs({ args: [...rest], options: OPTIONS[first], allowPositionals: false, strict: true, tokens: true }));
  } catch (err) {
    throw new UsageError(`${first}: ${(err as Error).message}`);
  }
  if (values['help'] === true) return { command: 'help', helpFor: first, exitWhenIdle: false, optionalMigrations: [] };
  checkGivenFlags(first, OPTIONS[first], tokens ?? []);
  const missing = (REQUIRED[first] ?? []).filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new UsageError(`${first}: missing ${missing.map((m) => `--${m}`).join(', ')} (see ${first} --help)`);
  const texts = Object.fromEntries(Object.entries(TEXT_FLAGS).map(([field, flag]) => [field, values[flag] as string | undefined])) as {
    [K in keyof typeof TEXT_FLAGS]: string | undefined;
  };
  return {
    command: first,
    ...texts,
    exitWhenIdle: values['exit-when-idle'] === true,
    migrateAtStart: values['migrate'] === true,
    legacyNull: values['legacy-null'] === true,
    force: values['force'] === true,
    visibleOnly: values['visible-only'] === true,
    optionalMigrations: (values['with'] as string[] | undefined) ?? [],
  };
}

/** The CliArgs fields that hold a flag's text as given, and their flags. */
const TEXT_FLAGS = {
  configFile: 'config', topicsFile: 'topics', sinkFile: 'sink', logLevel: 'log-level', topic: 'topic', model: 'model', id: 'id',
  partitionKey: 'partition-key', olderThan: 'older-than', batchSize: 'batch-size', pause: 'pause', from: 'from', to: 'to', rate: 'rate',
  over: 'over', resume: 'resume',
} as const;

const COMMANDS: readonly Command[] = ['run', 'sink', 'migrate', 'check', 'tombstone', 'cleanup', 'genesis', 'help', 'version'];

function isCommand(value: string | undefined): value is Command {
  return COMMANDS.includes(value as Command);
}

const COMMON_HELP = `  --config FILE      settings file (YAML or JSON, sections as below); env vars override it
  --log-level LEVEL  fatal, error, warn, info, debug, trace or silent (env LOG_LEVEL)
  -h, --help         this help`;

const COMMAND_HELP: Record<WorkCommand, string> = {
  run: `dionysus-relay run [options]

Publishes pending dionysus_outboxes rows to Kafka until stopped (SIGTERM/SIGINT drain gracefully).
Rows are claimed in batches with FOR UPDATE SKIP LOCKED, so several relays may run on one table.
Waits for PostgreSQL and Kafka when they do not answer yet (/readyz says why meanwhile); exits 2
at once when one refuses the credentials, the database name or the certificate.

  --topics FILE      topics YAML (env TOPICS_FILE, default config/topics.yaml)
  --migrate          apply the migrations of \`migrate\` (without --with) once PostgreSQL
                     answers, before publishing (env RELAY_MIGRATE=true)
  --exit-when-idle   publish what is pending, then exit 0 (jobs, tests); does not wait for
                     PostgreSQL or Kafka: exits 1 when one does not answer
${COMMON_HELP}`,
  migrate: `dionysus-relay migrate [options]

Creates dionysus_outboxes (as the gem's migration does) and the relay's bookkeeping table in
DATABASE_SCHEMA, if missing. Safe to run again; without --with it never changes an existing
outbox table.

  --with NAME        also apply sql/optional/NAME.sql (repeatable):
                       notify_trigger      insert trigger that wakes relays (LISTEN/NOTIFY)
                       strict_retry_index  index of the rows waiting for a retry, for topics
                                           with ordering: strict (each claim reads the whole
                                           backlog without it)
${COMMON_HELP}`,
  check: `dionysus-relay check [options]
dionysus-relay check --sink FILE [options]

Validates settings and the topics YAML, then checks them against the live systems: every
serializer runs and returns an id column, and every topic is reachable in Kafka. Exits non-zero
with one line per problem.
With --sink, checks the sink YAML instead: every mapped table and column exists, the remote id
column has a unique index, the inbox table has its shape, and the topics exist in Kafka.

  --topics FILE      topics YAML (env TOPICS_FILE, default config/topics.yaml)
  --sink FILE        check this sink YAML (see "sink --help")
${COMMON_HELP}`,
  sink: `dionysus-relay sink [options]

The consuming half of dionysus-rb: reads the topics of the sink YAML as a Kafka consumer group
and keeps synchronized copies of their records in PostgreSQL tables (synced_id, synced_data,
synced_created_at, synced_updated_at, synced_canceled_at), as the gem's consumer does. Each
partition's batch is applied in one transaction; offsets are committed after it commits.
Poison messages go to a dead-letter topic (or stop their partition). SIGTERM/SIGINT finish the
batches in flight and commit their offsets.

  --sink FILE        sink YAML (env SINK_FILE, default config/sink.yaml)
${COMMON_HELP}`,
  tombstone: `dionysus-relay tombstone --topic TOPIC --model MODEL --id ID [options]

Sends a tombstone for one resource: a real Kafka null value (what log compaction honours) with the
regular key MODEL:ID and partition, to TOPIC (and TOPIC_genesis for a genesis replica).

  --topic TOPIC          topic key from the topics YAML (users) or the full name (<namespace>_users)
  --model MODEL          class name, e.g. User or Admin::User
  --id ID                the resource's primary key
  --partition-key KEY    partition key (as the outbox row would carry it); default: the message key
  --legacy-null          send the gem's 4-byte string "null" instead of a null value
  --force                send although TOPIC, or MODEL on it, is not in the topics YAML
  --topics FILE          topics YAML (env TOPICS_FILE, default config/topics.yaml)
${COMMON_HELP}`,
  cleanup: `dionysus-relay cleanup --older-than DURATION [options]

Deletes published rows whose published_at is older than DURATION (e.g. 3d, 12h), in small batches
with pauses, and reports the count. Unpublished rows are never touched. Ctrl-C stops between two
batches; what was deleted stays deleted, nothing is left half-done.

  --older-than DURATION  e.g. 30d, 3d, 12h, 90m
  --batch-size N         rows per delete statement (default: RETENTION_BATCH_SIZE, 1000)
  --pause DURATION       pause between statements (default: RETENTION_PAUSE_MS, 100ms)
${COMMON_HELP}`,
  genesis: `dionysus-relay genesis --topic TOPIC --model MODEL [options]
dionysus-relay genesis --resume ID [--rate N/s | --over DURATION] [--batch-size N]

Re-streams every record of MODEL (a backfill) through its serializer, in pages of ids in id
order, as <singular>_updated, or <singular>_destroyed for soft-deleted records (the model's
soft_delete_column, default canceled_at, is set). TOPIC naming the primary topic of a
genesis_replica pair sends to both topics; TOPIC_genesis sends only to the replica. Writes no
outbox rows: it can run while the relay runs. Progress is kept in dionysus_relay_genesis_runs;
Ctrl-C/SIGTERM stops after the current page (exit 130/143) and --resume ID continues.
A model with an \`sql:\` serializer needs \`table:\` in the topics YAML (where its ids are paged from).

  --topic TOPIC          topic key (users), full name (<namespace>_users), or either with _genesis
  --model MODEL          class name, e.g. User or Admin::User
  --from TIME            only records with updated_at >= TIME (ISO 8601; no zone = UTC)
  --to TIME              only records with updated_at <= TIME
  --visible-only         skip soft-deleted records instead of sending them as _destroyed
  --rate N/s             at most N records per second (also N/m, N/h)
  --over DURATION        spread the run evenly over DURATION (e.g. 30m, 6h)
  --batch-size N         ids per page (default 500; at most one second's worth when paced)
  --resume ID            continue run ID where it stopped (its topic, model and filters)
  --topics FILE          topics YAML (env TOPICS_FILE, default config/topics.yaml)
${COMMON_HELP}`,
};

export function helpText(command?: Command): string {
  if (command !== undefined && command !== 'help' && command !== 'version') {
    return `${COMMAND_HELP[command]}\n\nSettings (env var, key, default):\n${describeSettings().join('\n')}\n`;
  }
  return `dionysus-relay: publishes the dionysus-rb transactional outbox (dionysus_outboxes) to Kafka,
wire-compatible with the Ruby gem's worker.

Usage: dionysus-relay <command> [options]

Commands:
  run       publish pending rows until stopped (or until idle with --exit-when-idle)
  sink      consume dionysus topics into synced_* tables (the gem's consumer)
  migrate   create the outbox table and the relay's bookkeeping table if missing
  check     validate the configuration against PostgreSQL and Kafka
  tombstone send a tombstone (null value) for one resource
  cleanup   delete published rows older than a duration (retention)
  genesis   re-stream every record of a model (backfill), paced and resumable
  help      this text; "help <command>" or "<command> --help" for a command's options
  version   print the version

Configuration comes from env vars (see "dionysus-relay run --help"), an optional --config file,
and the topics YAML (TOPICS_FILE).
`;
}
