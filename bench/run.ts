import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root';
import { effectiveSettings, relayEnv, type BenchContext } from './context';
import { dropSchema, ensureFixture, harnessPool } from './fixture';
import { deleteBenchTopics } from './kafka';
import { describeMachine, relayRevision } from './machine';
import { BENCH_USAGE, BenchUsageError, parseBenchArgs, type BenchOptions } from './options';
import { brokerPid, postmasterPid } from './proc';
import { summarizeProfile, type ProfileSummary } from './profile-summary';
import { snapshotRelay, stopAllRelays } from './relay-runner';
import { computeRatios, formatSummary, judgeTargets, type BenchResult } from './report';
import { runKafkaCeiling, runPostgresCeiling } from './scenarios/ceilings';
import { runBurst } from './scenarios/burst';
import { runDrain } from './scenarios/drain';
import { runSchemaCost } from './scenarios/schema-cost';
import { runLive } from './scenarios/live';
import { runSinkDrain, runSinkLive } from './scenarios/sink';
import { runStrictDrains } from './scenarios/strict';
import { runSweep } from './scenarios/sweep';

/**
 * `npm run bench [-- --quick] [--profile] [--sweep] ...`: the relay's benchmark suite against the
 * local PostgreSQL and Kafka (see docs/benchmarks.md for what each scenario measures and the latest figures).
 */
async function main(argv: readonly string[]): Promise<number> {
  const options = parseBenchArgs(argv);
  if (options.help === true) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  const started = Date.now();
  const loadAtStart = loadavg();
  const log = (line: string): void => void process.stdout.write(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`);
  const resultsDir = options.resultsDir ?? join(packageRoot(), 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'dionysus-relay-bench-'));
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
  // Revision and code are fixed when the run starts (see snapshotRelay).
  const revision = relayRevision(options.relayCli);
  const relayCli = options.relayCli ?? snapshotRelay(workDir);
  const fixture = await ensureFixture(options.schema, options.sizes, options.rebuildHistory, log);
  const pool = harnessPool(options.schema);
  const backend = Number((await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const ctx: BenchContext = {
    options: { ...options, relayCli },
    fixture,
    pool,
    workDir,
    runId: Date.now().toString(36),
    postmasterPid: postmasterPid(backend),
    brokerPid: brokerPid(),
    log,
    createdTopics: [],
  };
  // Ctrl-C (or a CI timeout's SIGTERM): stop the relays, delete this run's topics, then exit.
  const interrupted = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping relays and deleting this run's topics`);
    stopAllRelays();
    void deleteBenchTopics(ctx.createdTopics).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const machine = await describeMachine(pool);
    const scenarios = await runScenarios(ctx, options);
    let profile: ProfileSummary | undefined;
    if (scenarios.profileFile !== undefined) {
      const kept = join(resultsDir, `${stamp}-drain.cpuprofile`);
      copyFileSync(scenarios.profileFile, kept);
      profile = { ...summarizeProfile(scenarios.profileFile), file: kept };
    }
    const settings = effectiveSettings(relayEnv(ctx));
    const ratios = computeRatios(scenarios.results);
    const result: BenchResult = {
      resultVersion: 1,
      mode: options.quick ? 'quick' : 'full',
      command: `npm run bench --${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`,
      startedAt: new Date(started).toISOString(),
      durationSeconds: Math.round((Date.now() - started) / 1000),
      machine,
      // 1, 5 and 15-minute load averages: on a shared machine, what every figure must be read with.
      loadAverage: { start: loadAtStart.map((l) => Math.round(l * 100) / 100), end: loadavg().map((l) => Math.round(l * 100) / 100) },
      relayRevision: revision,
      relaySettings: {
        batchSize: settings.relay.batchSize,
        maxInflightBatches: settings.relay.maxInflightBatches,
        pollIntervalMs: settings.relay.pollIntervalMs,
        poolSize: settings.database.poolSize,
        librdkafka: settings.kafka.librdkafka,
      },
      fixture,
      scenarios: scenarios.results,
      ...(profile ? { profile } : {}),
      ratios,
      targets: judgeTargets(scenarios.results, ratios),
    };
    const file = join(resultsDir, `bench-${result.mode}-${stamp}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`\n${formatSummary(result)}\n\nresult: ${file}\n`);
    return 0;
  } finally {
    await deleteBenchTopics(ctx.createdTopics).catch((err: unknown) => log(`could not delete topics: ${String(err)}`));
    await pool.end();
    rmSync(workDir, { recursive: true, force: true });
    if (options.dropSchema) await dropSchema(options.schema);
  }
}

async function runScenarios(
  ctx: BenchContext,
  options: BenchOptions,
): Promise<{ results: BenchResult['scenarios']; profileFile: string | undefined }> {
  const { sizes } = options;
  const want = (name: BenchOptions['scenarios'][number]): boolean => options.scenarios.includes(name);
  const ceilingPostgres = want('ceiling-pg') ? await runPostgresCeiling(ctx, sizes.drainRows) : undefined;
  const drain = want('drain') ? await runDrain(ctx, { label: 'drain', rows: sizes.drainRows, relays: 1, verify: true }) : undefined;
  const burst = [];
  if (want('burst')) {
    for (const shape of ['large', 'small'] as const) burst.push(await runBurst(ctx, { rows: sizes.burstRows, shape }));
  }
  const schemaCost = want('schema-cost') ? await runSchemaCost(ctx, sizes.drainRows) : undefined;
  const scaleOut = want('scaleout') ? await runDrain(ctx, { label: 'scaleout', rows: sizes.drainRows, relays: 2, verify: true }) : undefined;
  const strict = want('strict') ? await runStrictDrains(ctx, sizes.drainRows) : undefined;
  const ceilingKafka = want('ceiling-kafka') ? await runKafkaCeiling(ctx, sizes.drainRows) : undefined;
  const live = [];
  if (want('live')) {
    for (const notifyTrigger of options.liveNotify ? [false, true] : [false]) {
      for (const rate of sizes.liveRates) live.push(await runLive(ctx, { rate, seconds: sizes.liveSeconds, notifyTrigger }));
    }
  }
  const sinkDrain = want('sink-drain') ? await runSinkDrain(ctx, sizes.drainRows) : undefined;
  const sinkLive = [];
  if (want('sink-live')) for (const rate of sizes.liveRates) sinkLive.push(await runSinkLive(ctx, rate, sizes.liveSeconds));
  let profiledDrain;
  let profileFile: string | undefined;
  if (options.profile) {
    const profileDir = join(ctx.workDir, 'profile');
    mkdirSync(profileDir, { recursive: true });
    profiledDrain = await runDrain(ctx, { label: 'profiled', rows: sizes.drainRows, relays: 1, profileDir, verify: false });
    const found = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    profileFile = found[0] === undefined ? undefined : join(profileDir, found[0]);
  }
  const sweep = options.sweep ? await runSweep(ctx) : [];
  return {
    results: {
      ...(drain ? { drain } : {}),
      burst,
      ...(schemaCost ? { schemaCost } : {}),
      ...(scaleOut ? { scaleOut } : {}),
      ...(strict ? { strict } : {}),
      live,
      ...(sinkDrain ? { sinkDrain } : {}),
      sinkLive,
      ...(ceilingPostgres ? { ceilingPostgres } : {}),
      ...(ceilingKafka ? { ceilingKafka } : {}),
      ...(profiledDrain ? { profiledDrain } : {}),
      sweep,
    },
    profileFile,
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof BenchUsageError) process.stderr.write(`bench: ${err.message} (see --help)\n`);
    else process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
