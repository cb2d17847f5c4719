import { join } from 'node:path';
import { BackendCpuTracker } from '../backend-cpu';
import { cpuMeter, newScenarioTopic, relayEnv, type BenchContext } from '../context';
import { BENCH_DATABASE_URL, insertPending, resetOutbox } from '../fixture';
import type { GeneratorSummary } from '../live-generator';
import { processCpuSeconds, roundedSplit, type MeasuredCpu } from '../proc';
import { freePort, spawnRelay, waitForOutput, type RelayRunResult } from '../relay-runner';
import { round, type Distribution } from '../stats';
import { countPending, measureLatency, runGenerator, waitPendingZero } from './live-support';

/**
 * Burst: the relay is already running and idle (connected, metadata fetched, its code warm after
 * publishing WARMUP_ROWS rows), then `rows` rows are committed as fast as the application can:
 * either in a few large transactions (four, two at a time) or in many small ones (five rows each,
 * on twelve connections). Timed from
 * the first commit's answer to the last message's LogAppendTime on the broker. CPU per row: the
 * relay process's from the first commit to the last mark; the PostgreSQL backends serving it and the
 * broker from just before the generator starts to the last mark. The relay's CPU before the burst
 * (start-up, warm-up) and while idle are reported apart.
 */
export type BurstShape = 'large' | 'small';

export interface BurstOptions {
  readonly rows: number;
  readonly shape: BurstShape;
  readonly env?: Readonly<Record<string, string>>;
}

export interface BurstResult {
  readonly label: string;
  readonly rows: number;
  readonly shape: BurstShape;
  readonly rowsPerTransaction: number;
  readonly transactions: number;
  readonly env: Readonly<Record<string, string>>;
  readonly generator: GeneratorSummary;
  /** First commit answered → last LogAppendTime, seconds. */
  readonly commitToLastAppendSeconds: number;
  readonly rowsPerSecond: number;
  /** Per row, commit → LogAppendTime, ms. */
  readonly commitToAckMs: Distribution;
  readonly messagesMatched: number;
  readonly duplicateMessages: number;
  readonly unpublished: number;
  /**
   * The relay's CPU before the burst: start-up (module loading, connections, serializer checks,
   * metadata), the warm-up rows and the idle polling since. Not part of the per-row figures.
   */
  readonly relayCpuBeforeBurstSeconds: number;
  /** The idle relay's CPU, seconds per second, measured just before the burst (polling). */
  readonly relayIdleCpuPerSecond: number;
  readonly relayCpuSeconds: number;
  readonly relayCpuMicrosPerRow: number;
  readonly relayPostgresCpuMicrosPerRow: number;
  readonly brokerCpuMicrosPerRow: number;
  /** All of PostgreSQL (the application's commits included), per row. */
  readonly postgresCpuMicrosPerRow: number;
  readonly relay: RelayRunResult;
  readonly cpu: MeasuredCpu;
}

/**
 * Rows the relay publishes before the burst, so that it meets the burst the way a relay that has
 * been running for a while does: connected, metadata fetched, and its code optimized by V8. A relay
 * fresh from start-up runs its first tens of thousands of rows in unoptimized code, which costs
 * it about 0.3 s of CPU once: over a 10k-row burst that alone nearly doubles the CPU per row.
 */
const WARMUP_ROWS = 20_000;
const SMALL_ROWS_PER_TRANSACTION = 5;
const SMALL_CONNECTIONS = 12;
const LARGE_TRANSACTIONS = 4;
const LARGE_CONNECTIONS = 2;
const PUBLISH_TIMEOUT_MS = 600_000;
const IDLE_MEASURE_MS = 3_000;

export async function runBurst(ctx: BenchContext, options: BurstOptions): Promise<BurstResult> {
  const label = `burst-${options.shape}`;
  await resetOutbox(ctx.pool, ctx.fixture);
  const scenario = await newScenarioTopic(ctx, label);
  await ctx.pool.query('CHECKPOINT');
  const perTx = options.shape === 'small' ? SMALL_ROWS_PER_TRANSACTION : Math.ceil(options.rows / LARGE_TRANSACTIONS);
  ctx.log(`${label}: ${options.rows} rows in transactions of ${perTx} rows, relay running and idle`);
  const relay = spawnRelay({
    label,
    metricsPort: await freePort(),
    cli: ctx.options.relayCli,
    args: ['run', '--topics', scenario.topicsFile],
    // info: the relay's "relay running" line is the harness's signal that it is ready.
    env: relayEnv(ctx, { LOG_LEVEL: 'info', ...options.env }),
    workDir: ctx.workDir,
    timeoutMs: PUBLISH_TIMEOUT_MS + 120_000,
  });
  try {
    // Warm-up rows use users past the burst's (the fixture has room for at least 100 of them).
    const warmupRows = Math.max(1, Math.min(WARMUP_ROWS, ctx.fixture.users - options.rows));
    const warmupUser = ctx.fixture.users - warmupRows + 1;
    await waitForOutput(relay, 'relay running', 30_000);
    await insertPending(ctx.pool, scenario.topic, warmupRows, warmupUser);
    await waitPendingZero(ctx, scenario.topic, 120_000);
    // Let the relay settle into its idle polling before the burst, and measure what idling costs.
    await new Promise((r) => setTimeout(r, 1_000));
    const idleFrom = processCpuSeconds(relay.pid) ?? NaN;
    await new Promise((r) => setTimeout(r, IDLE_MEASURE_MS));
    const idleCpuPerSecond = ((processCpuSeconds(relay.pid) ?? NaN) - idleFrom) / (IDLE_MEASURE_MS / 1000);

    const meter = cpuMeter(ctx);
    meter.start();
    const relayCpuStart = processCpuSeconds(relay.pid) ?? NaN;
    const relayCpuSamples = sampleCpu(relay.pid);
    const relayBackends = new BackendCpuTracker(ctx.pool, () => relay.pid, true);
    relayBackends.start();
    const commitsFile = join(ctx.workDir, `${label}-commits.csv`);
    const generator = await runGenerator(() => undefined, {
      url: BENCH_DATABASE_URL,
      schema: ctx.fixture.schema,
      topic: scenario.topic,
      // Every transaction is due at once: the generator commits as fast as its connections allow.
      ratePerSecond: options.rows * 1_000,
      durationSeconds: 0.001,
      firstUser: 1,
      users: Math.min(ctx.fixture.users, warmupUser - 1),
      connections: options.shape === 'small' ? SMALL_CONNECTIONS : LARGE_CONNECTIONS,
      rowsPerTransaction: perTx,
      outFile: commitsFile,
    });
    const caughtUp = await waitPendingZero(ctx, scenario.topic, PUBLISH_TIMEOUT_MS, false);
    const relayCpuEnd = processCpuSeconds(relay.pid) ?? NaN;
    relayCpuSamples.stop();
    const relayPgCpu = await relayBackends.stop();
    const other = meter.stop();
    const unpublished = caughtUp ? 0 : await countPending(ctx, scenario.topic);
    relay.stop();
    const relayResult = await relay.done;
    const latency = await measureLatency(scenario.topic, commitsFile, generator.committed - unpublished + warmupRows);
    const rows = Math.max(1, generator.committed);
    const perRow = (seconds: number): number => round((seconds / rows) * 1e6, 1);
    const span = (latency.lastAppendMs - latency.firstCommitMs) / 1000;
    // From the first commit on: the generator's start-up (and, with large transactions, the first
    // one's execution) is idle time for the relay, which the idle figure reports on its own.
    const relayCpu = relayCpuEnd - relayCpuSamples.at(latency.firstCommitMs, relayCpuStart);
    const result: BurstResult = {
      label,
      rows: generator.committed,
      shape: options.shape,
      rowsPerTransaction: perTx,
      transactions: generator.transactions,
      env: options.env ?? {},
      generator,
      commitToLastAppendSeconds: round(span, 3),
      rowsPerSecond: Math.round(latency.matched / span),
      commitToAckMs: latency.distribution,
      messagesMatched: latency.matched,
      duplicateMessages: latency.duplicates,
      unpublished,
      relayCpuBeforeBurstSeconds: round(relayCpuStart, 3),
      relayIdleCpuPerSecond: round(idleCpuPerSecond, 4),
      relayCpuSeconds: round(relayCpu, 3),
      relayCpuMicrosPerRow: perRow(relayCpu),
      relayPostgresCpuMicrosPerRow: perRow(relayPgCpu),
      brokerCpuMicrosPerRow: perRow(other.broker),
      postgresCpuMicrosPerRow: perRow(other.postgres),
      relay: relayResult,
      cpu: roundedSplit(other, relayCpu + generator.cpuSeconds),
    };
    ctx.log(
      `${label}: ${result.rows} rows in ${result.transactions} transactions, first commit → last append ${result.commitToLastAppendSeconds} s ` +
        `(${result.rowsPerSecond} rows/s), commit→ack p50 ${result.commitToAckMs.p50} ms p99 ${result.commitToAckMs.p99} ms; µs/row: relay ${result.relayCpuMicrosPerRow}, ` +
        `its PG backends ${result.relayPostgresCpuMicrosPerRow}, broker ${result.brokerCpuMicrosPerRow}, all PG ${result.postgresCpuMicrosPerRow}; relay CPU before the burst ${result.relayCpuBeforeBurstSeconds} s, idle ${result.relayIdleCpuPerSecond} s/s; ` +
        `batches ${result.relay.phases?.batches ?? '?'} of ${result.relay.phases?.meanBatchSize ?? '?'} rows; duplicates ${result.duplicateMessages}`,
    );
    return result;
  } finally {
    relay.stop();
    await relay.done;
  }
}

/** The process's CPU sampled every 20 ms, so the CPU used from a moment known only later can be read. */
function sampleCpu(pid: number): { at(ms: number, fallback: number): number; stop(): void } {
  const samples: Array<readonly [number, number]> = [];
  const take = (): void => {
    const cpu = processCpuSeconds(pid);
    if (cpu !== undefined) samples.push([Date.now(), cpu]);
  };
  take();
  const timer = setInterval(take, 20);
  return {
    // The last reading taken at or before `ms` (CPU only grows: never more than was used by then).
    at: (ms, fallback) => {
      let value = fallback;
      for (const [t, cpu] of samples) if (t <= ms) value = cpu;
      return value;
    },
    stop: () => clearInterval(timer),
  };
}
