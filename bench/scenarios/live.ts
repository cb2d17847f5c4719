import { join } from 'node:path';
import { BackendCpuTracker } from '../backend-cpu';
import { cpuMeter, newScenarioTopic, relayEnv, type BenchContext, type ScenarioTopic } from '../context';
import { BENCH_DATABASE_URL, insertPending, resetOutbox } from '../fixture';
import type { GeneratorSummary } from '../live-generator';
import { processCpuSeconds, roundedSplit, type CpuSplit, type MeasuredCpu } from '../proc';
import { freePort, spawnRelay, waitForOutput, type RelayChild, type RelayRunResult } from '../relay-runner';
import { round, type Distribution } from '../stats';
import {
  countPending,
  markLatency,
  measureLatency,
  runGenerator,
  samplePending,
  setNotifyTrigger,
  waitPendingZero,
  type PendingSummary,
} from './live-support';

/**
 * Live load: a relay runs while the generator commits rows at a fixed offered rate. Latency is
 * commit → broker append: the generator records each row's commit time, and the topic (created
 * with LogAppendTime) gives each message's broker timestamp; both clocks are this machine's.
 * The pending count is sampled to tell whether the relay kept up.
 */
export interface LiveOptions {
  readonly rate: number;
  readonly seconds: number;
  /** Install sql/optional/notify_trigger.sql for this run (the relay LISTENs by default). */
  readonly notifyTrigger: boolean;
  readonly env?: Readonly<Record<string, string>>;
}

export interface LiveResult {
  readonly label: string;
  readonly offeredRate: number;
  readonly notifyTrigger: boolean;
  readonly seconds: number;
  readonly env: Readonly<Record<string, string>>;
  readonly generator: GeneratorSummary;
  /** Commit → LogAppendTime, ms. */
  readonly commitToAckMs: Distribution;
  /** published_at - created_at from the table (the relay's mark, after the ack), ms. */
  readonly createdToMarkedMs: { p50: number; p99: number; max: number };
  readonly messagesMatched: number;
  readonly messagesMissing: number;
  readonly duplicateMessages: number;
  readonly pending: PendingSummary;
  readonly catchUpSeconds: number;
  readonly keptUp: boolean;
  readonly relayCpuSecondsPer1000Rows: number;
  readonly relayCpuShareOfOneCore: number;
  /** CPU of the Postgres backends serving the relay (claims, serializers, marks) in the window. */
  readonly relayPostgresCpuSecondsPer1000Rows: number;
  /** CPU of the Postgres backends serving the generator (the application's own transactions). */
  readonly generatorPostgresCpuSecondsPer1000Rows: number;
  readonly relay: RelayRunResult;
  readonly cpu: MeasuredCpu;
}

const WARMUP_ROWS = 20;
const CATCH_UP_TIMEOUT_MS = 180_000;
const SAMPLE_MS = 500;
/**
 * Concurrent application transactions. Commits wait for a WAL flush (synchronous_commit = on), so
 * the generator needs several in flight to reach its rate; 12 was enough for 1k transactions/s here.
 */
const GENERATOR_CONNECTIONS = 12;

/**
 * Rows per application transaction: 1 up to 1k rows/s; above, about 1k transactions/s of a few
 * rows each (5 at 5k rows/s). One-row transactions top out near 2k/s on this 2-core machine with
 * the relay, Postgres and the broker sharing it (measured: 1,729 rows/s offered 5k alone), so a
 * 5k rows/s load of single-row commits cannot be offered at all; small multi-row transactions
 * (a request touching a few records) can.
 */
export function rowsPerTransaction(rate: number): number {
  return Math.max(1, Math.round(rate / 1000));
}

export async function runLive(ctx: BenchContext, options: LiveOptions): Promise<LiveResult> {
  const label = `live${options.rate}${options.notifyTrigger ? '-notify' : ''}`;
  await resetOutbox(ctx.pool, ctx.fixture);
  await setNotifyTrigger(ctx, options.notifyTrigger);
  const scenario = await newScenarioTopic(ctx, label);
  await ctx.pool.query('CHECKPOINT');
  ctx.log(`${label}: ${options.rate} rows/s offered for ${options.seconds} s`);
  const relay = spawnRelay({
    label,
    metricsPort: await freePort(),
    cli: ctx.options.relayCli,
    args: ['run', '--topics', scenario.topicsFile],
    env: relayEnv(ctx, { LOG_LEVEL: 'info', ...options.env }),
    workDir: ctx.workDir,
    timeoutMs: (options.seconds + 300) * 1000,
  });
  try {
    const total = Math.round(options.rate * options.seconds);
    // Generator users start at 1; the warm-up rows use users past the generator's range.
    const warmupUser = Math.max(total + 1, ctx.fixture.users - WARMUP_ROWS);
    await waitForOutput(relay, 'relay running', 30_000);
    // Warm-up: the first batch fetches topic metadata; keep that out of the measured rows.
    await insertPending(ctx.pool, scenario.topic, WARMUP_ROWS, warmupUser);
    await waitPendingZero(ctx, scenario.topic, 30_000);
    const window = await loadWindow(ctx, options, label, scenario, relay, warmupUser - 1);
    relay.stop();
    const relayResult = await relay.done;
    const result = await summarize(ctx, options, label, scenario, window, relayResult);
    ctx.log(
      `${label}: generator ${window.generator.achievedRate} rows/s (${window.generator.rowsPerTransaction}/tx, ` +
        `commit p50 ${window.generator.commitMsP50} ms), commit→ack p50 ${result.commitToAckMs.p50} ms, ` +
        `p99 ${result.commitToAckMs.p99} ms, max ${result.commitToAckMs.max} ms, pending max ${result.pending.max}, ` +
        `kept up: ${result.keptUp ? 'yes' : 'no'}`,
    );
    return result;
  } finally {
    relay.stop();
    await relay.done;
    if (options.notifyTrigger) await setNotifyTrigger(ctx, false);
  }
}

interface LoadWindow {
  readonly generator: GeneratorSummary;
  readonly commitsFile: string;
  readonly pending: PendingSummary;
  readonly caughtUp: boolean;
  readonly catchUpSeconds: number;
  readonly relayCpu: number;
  readonly relayPgCpu: number;
  readonly generatorPgCpu: number;
  readonly windowSeconds: number;
  readonly otherCpu: CpuSplit;
}

/** The measured window: generator load, then the relay's catch-up; CPU of everyone involved. */
async function loadWindow(
  ctx: BenchContext,
  options: LiveOptions,
  label: string,
  scenario: ScenarioTopic,
  relay: RelayChild,
  lastUser: number,
): Promise<LoadWindow> {
  const meter = cpuMeter(ctx);
  meter.start();
  const relayCpuStart = processCpuSeconds(relay.pid) ?? NaN;
  const started = Date.now();
  const sampler = samplePending(ctx, scenario.topic, SAMPLE_MS);
  const relayBackends = new BackendCpuTracker(ctx.pool, () => relay.pid, true);
  relayBackends.start();
  let generatorPid: number | undefined;
  const generatorBackends = new BackendCpuTracker(ctx.pool, () => generatorPid);
  generatorBackends.start();
  const commitsFile = join(ctx.workDir, `${label}-commits.csv`);
  const generator = await runGenerator((pid) => (generatorPid = pid), {
    url: BENCH_DATABASE_URL,
    schema: ctx.fixture.schema,
    topic: scenario.topic,
    ratePerSecond: options.rate,
    durationSeconds: options.seconds,
    firstUser: 1,
    users: Math.min(ctx.fixture.users, lastUser),
    connections: GENERATOR_CONNECTIONS,
    rowsPerTransaction: rowsPerTransaction(options.rate),
    outFile: commitsFile,
  });
  const loadEndSeconds = (Date.now() - started) / 1000;
  const atEnd = await countPending(ctx, scenario.topic);
  const catchUpStarted = Date.now();
  // A relay that fell far behind gets a bounded time to catch up; what it did not publish by
  // then counts as missing (and the run as not kept up) instead of failing the whole benchmark.
  const caughtUp = await waitPendingZero(ctx, scenario.topic, CATCH_UP_TIMEOUT_MS, false);
  const catchUpSeconds = (Date.now() - catchUpStarted) / 1000;
  const pending = sampler.stop(loadEndSeconds, atEnd);
  const relayCpu = (processCpuSeconds(relay.pid) ?? NaN) - relayCpuStart;
  const relayPgCpu = await relayBackends.stop();
  const generatorPgCpu = await generatorBackends.stop();
  return {
    generator,
    commitsFile,
    pending,
    caughtUp,
    catchUpSeconds,
    relayCpu,
    relayPgCpu,
    generatorPgCpu,
    windowSeconds: (Date.now() - started) / 1000,
    otherCpu: meter.stop(),
  };
}

async function summarize(
  ctx: BenchContext,
  options: LiveOptions,
  label: string,
  scenario: ScenarioTopic,
  w: LoadWindow,
  relay: RelayRunResult,
): Promise<LiveResult> {
  const committed = Math.max(1, w.generator.committed);
  const published = w.generator.committed - (w.caughtUp ? 0 : await countPending(ctx, scenario.topic));
  const latency = await measureLatency(scenario.topic, w.commitsFile, published + WARMUP_ROWS);
  const slopeOk = Number.isNaN(w.pending.slopeRowsPerSecond) || w.pending.slopeRowsPerSecond <= 0.02 * options.rate;
  return {
    label,
    offeredRate: options.rate,
    notifyTrigger: options.notifyTrigger,
    seconds: options.seconds,
    env: options.env ?? {},
    generator: w.generator,
    commitToAckMs: latency.distribution,
    createdToMarkedMs: await markLatency(ctx, scenario.topic),
    messagesMatched: latency.matched,
    messagesMissing: w.generator.committed - latency.matched,
    duplicateMessages: latency.duplicates,
    pending: w.pending,
    catchUpSeconds: round(w.catchUpSeconds, 2),
    keptUp: w.caughtUp && w.generator.achievedRate >= 0.95 * options.rate && w.catchUpSeconds <= 2 && slopeOk,
    relayCpuSecondsPer1000Rows: round((w.relayCpu / committed) * 1000, 3),
    relayCpuShareOfOneCore: round(w.relayCpu / w.windowSeconds, 3),
    relayPostgresCpuSecondsPer1000Rows: round((w.relayPgCpu / committed) * 1000, 3),
    generatorPostgresCpuSecondsPer1000Rows: round((w.generatorPgCpu / committed) * 1000, 3),
    relay,
    cpu: roundedSplit(w.otherCpu, w.relayCpu + w.generator.cpuSeconds),
  };
}
