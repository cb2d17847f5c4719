import type { Settings } from '../config/settings';
import { RelayError, errorMessage } from '../errors';
import { GenesisUsageError, describeOptions } from '../genesis/genesis-options';
import { GENESIS_RUNS_TABLE, GenesisRunStore, type GenesisRunLock } from '../genesis/genesis-run-store';
import { runGenesisSession, type SessionResult } from '../genesis/genesis-session';
import { checkRequest, openSession, type GenesisRequest, type GenesisSession } from '../genesis/genesis-setup';
import { ProgressDisplay } from '../genesis/progress-display';
import { formatCount } from '../genesis/progress-format';
import { KafkaPublisher } from '../kafka/publisher';
import { producerConfig } from '../kafka/librdkafka-config';
import { handleSignals } from '../lifecycle/signals';
import { loadConfiguration } from '../config/load-configuration';
import { qualifiedTable } from '../postgres/identifiers';
import { createPool, redactUrl } from '../postgres/pool';
import { PING } from '../postgres/session-sql';
import { prepared } from '../postgres/statement';
import { UsageError, type CliArgs } from './args';

/** Connections of a genesis: one holds the run's lock, the others page, load and record. */
const GENESIS_POOL_SIZE = 3;

/**
 * `dionysus-relay genesis`: re-streams every record of a model through its serializer, paced and
 * resumable (see docs/genesis.md). Runs beside the daemon: its own connections and producer, no
 * outbox rows. Exit 0 done, 1 failed (resumable), 2 usage or configuration, 130/143 interrupted
 * by SIGINT/SIGTERM (resumable).
 */
export async function genesisCommand(args: CliArgs, env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const { settings, topics } = loadConfiguration(args, env);
  const request: GenesisRequest = {
    topic: args.topic,
    model: args.model,
    resume: args.resume,
    flags: { from: args.from, to: args.to, visibleOnly: args.visibleOnly, rate: args.rate, over: args.over, batchSize: args.batchSize },
  };
  try {
    checkRequest(topics, request);
  } catch (err) {
    throw asUsageError(err);
  }
  const pool = createPool({ ...settings.database, poolSize: GENESIS_POOL_SIZE }, 'dionysus-relay-genesis');
  // An idle connection that breaks is replaced on next use; the error surfaces on that query.
  pool.on('error', () => undefined);
  const publisher = new KafkaPublisher({ config: producerConfig(settings.kafka), metadataRefreshMs: settings.kafka.metadataRefreshMs });
  const store = new GenesisRunStore(pool, qualifiedTable(settings.database.schema, GENESIS_RUNS_TABLE));
  let lock: GenesisRunLock | undefined;
  try {
    await checkDatabase(pool, settings);
    const opened = await openSession({ pool, store, publisher, topics }, request).catch((err: unknown) => {
      throw asUsageError(err);
    });
    if (opened.kind === 'already-done') {
      out(`genesis run ${opened.run.id} is already done (${formatCount(opened.run.sent)} sent); nothing to resume`);
      return 0;
    }
    lock = opened.session.lock;
    return await runWithSignals(opened.session, store, publisher);
  } finally {
    await lock?.release();
    await publisher.stop();
    await pool.end();
  }
}

/** A GenesisUsageError as the CLI's usage error (exit 2); anything else as it is. */
function asUsageError(err: unknown): unknown {
  return err instanceof GenesisUsageError ? new UsageError(`genesis: ${err.message}`) : err;
}

async function runWithSignals(session: GenesisSession, store: GenesisRunStore, publisher: KafkaPublisher): Promise<number> {
  const display = new ProgressDisplay(process.stdout, Date.now);
  const { run, target, options } = session;
  const total = run.totalEstimate === null ? 'an unknown number of' : formatCount(run.totalEstimate);
  display.line(
    `genesis run ${run.id} ${session.resumed ? `resumed after id ${run.lastId ?? '(none)'}` : 'started'}: ` +
      `${target.model.name} → ${target.topicNames.join(' + ')}, ${total} record(s) from ${session.ids.relation}; ${describeOptions(options)}`,
  );
  let signal: NodeJS.Signals | undefined;
  let stop: (() => void) | undefined;
  const removeHandlers = handleSignals((received) => {
    signal = received;
    display.line(`${received}: stopping after the current page (again to stop at once)`);
    stop?.();
  });
  let result: SessionResult;
  try {
    result = await runGenesisSession(session, { store, publisher, display, now: Date.now, onStoppable: (s) => {
        stop = s;
        if (signal !== undefined) s();
      },
    });
  } catch (err) {
    const code = err instanceof RelayError ? err.code : 'INTERNAL';
    process.stderr.write(`dionysus-relay: genesis run ${run.id} failed [${code}]: ${errorMessage(err)}\n`);
    process.stderr.write(`  fix the cause, then continue with: dionysus-relay genesis --resume ${run.id}\n`);
    return code === 'CONFIG_INVALID' || code === 'TOPICS_FILE_INVALID' ? 2 : 1;
  } finally {
    removeHandlers();
  }
  const { position } = result;
  const counts = `${formatCount(position.sent)} sent, ${formatCount(position.skipped)} skipped`;
  if (result.outcome === 'done') {
    display.line(`genesis run ${run.id} done: ${counts}`);
    return 0;
  }
  display.line(`genesis run ${run.id} interrupted after id ${position.lastId ?? '(none)'}: ${counts}; continue with: dionysus-relay genesis --resume ${run.id}`);
  return signal === 'SIGINT' ? 130 : 143;
}

async function checkDatabase(pool: ReturnType<typeof createPool>, settings: Settings): Promise<void> {
  try {
    await pool.query(prepared(PING));
  } catch (err) {
    throw new RelayError('POSTGRES_UNAVAILABLE', `cannot connect to PostgreSQL at ${redactUrl(settings.database.url)} (DATABASE_URL): ${errorMessage(err)}`, {
      cause: err,
    });
  }
}
