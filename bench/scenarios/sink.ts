import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendCpuTracker } from '../backend-cpu';
import { newScenarioTopic, relayEnv, type BenchContext, type ScenarioTopic } from '../context';
import { BENCH_DATABASE_URL, insertPending, resetOutbox } from '../fixture';
import type { GeneratorSummary } from '../live-generator';
import { processCpuSeconds } from '../proc';
import { freePort, spawnRelay, waitForOutput, type RelayChild, type RelayRunResult } from '../relay-runner';
import { distribution, round, type Distribution } from '../stats';
import { rowsPerTransaction } from './live';
import { runGenerator, waitPendingZero } from './live-support';

/**
 * The sink's scenarios: `dionysus-relay sink` applying the relay's user messages (about 600 bytes,
 * ~15 attributes and a link) into a consumer table of the same shape as the introduction's.
 * - sink-drain: a topic filled by the relay beforehand, then a cold sink until every message is
 *   in the table: messages/s from spawn, and over the rows' applied_at span (start-up excluded).
 * - sink-live: relay and sink running while the live generator commits user changes at a fixed
 *   rate: end-to-end latency from each outbox commit to its row in the consumer table.
 */

const TABLE = 'bench_sink_users';
const SINK_TIMEOUT_MS = 15 * 60_000;
const GENERATOR_CONNECTIONS = 12;

/** The consumer's table: the gem's synced_* columns, the serializer's attributes, and when each row was applied. */
async function createConsumerTable(ctx: BenchContext): Promise<void> {
  await ctx.pool.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await ctx.pool.query(`CREATE TABLE ${TABLE} (
    id bigserial PRIMARY KEY, synced_id bigint NOT NULL UNIQUE, synced_account_id bigint, email text, first_name text,
    last_name text, phone text, locale text, time_zone text, role text, bio text, version integer, account_name text,
    account_plan text, currency text, country text, synced_created_at timestamp(6), synced_updated_at timestamp(6),
    synced_canceled_at timestamp(6), synced_data jsonb,
    applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
}

function sinkFile(ctx: BenchContext, scenario: ScenarioTopic, label: string): string {
  const file = join(ctx.workDir, `sink-${label}.yaml`);
  writeFileSync(file, `group_id: ${scenario.namespace}_sink\nnamespace: ${scenario.namespace}\ntopics:\n  users: {}\nmodels:\n  User: {table: ${TABLE}}\n`);
  return file;
}

async function spawnSink(ctx: BenchContext, scenario: ScenarioTopic, label: string): Promise<RelayChild> {
  const sink = spawnRelay({
    label,
    metricsPort: await freePort(),
    cli: ctx.options.relayCli,
    args: ['sink', '--sink', sinkFile(ctx, scenario, label)],
    env: relayEnv(ctx, { LOG_LEVEL: 'info' }),
    workDir: ctx.workDir,
    timeoutMs: SINK_TIMEOUT_MS,
  });
  await waitForOutput(sink, 'sink running', 60_000);
  return sink;
}

async function appliedCount(ctx: BenchContext): Promise<number> {
  const { rows } = await ctx.pool.query(`SELECT count(*)::int AS n FROM ${TABLE}`);
  return (rows[0] as { n: number }).n;
}

async function waitApplied(ctx: BenchContext, count: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while ((await appliedCount(ctx)) < count) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

export interface SinkDrainResult {
  readonly messages: number;
  readonly partitions: number;
  /** Sink spawn to the last row in the table. */
  readonly wallSeconds: number;
  readonly messagesPerSecondWall: number;
  /** max(applied_at) - min(applied_at): steady applying, start-up and group join excluded. */
  readonly appliedSpanSeconds: number;
  readonly messagesPerSecondSpan: number;
  readonly rowsInTable: number;
  readonly sinkCpuSecondsPer1000Messages: number;
  readonly sinkPostgresCpuSecondsPer1000Messages: number;
  readonly sink: RelayRunResult;
}

export async function runSinkDrain(ctx: BenchContext, messages: number): Promise<SinkDrainResult> {
  await resetOutbox(ctx.pool, ctx.fixture);
  const scenario = await newScenarioTopic(ctx, 'sinkdrain');
  await insertPending(ctx.pool, scenario.topic, messages);
  ctx.log(`sink-drain: the relay publishes ${messages} user messages first (not measured)`);
  const relay = spawnRelay({ label: 'sinkdrain-relay', cli: ctx.options.relayCli, args: ['run', '--exit-when-idle', '--topics', scenario.topicsFile], env: relayEnv(ctx), workDir: ctx.workDir, timeoutMs: SINK_TIMEOUT_MS });
  const published = await relay.done;
  if (published.exitCode !== 0) throw new Error(`sink-drain: the relay exited with ${String(published.exitCode)}:\n${published.outputTail}`);
  await createConsumerTable(ctx);
  await ctx.pool.query('CHECKPOINT');
  ctx.log(`sink-drain: a cold sink applies ${messages} messages`);
  const spawnedAt = Date.now();
  const sink = spawnRelay({
    label: 'sinkdrain',
    metricsPort: await freePort(),
    cli: ctx.options.relayCli,
    args: ['sink', '--sink', sinkFile(ctx, scenario, 'sinkdrain')],
    env: relayEnv(ctx),
    workDir: ctx.workDir,
    timeoutMs: SINK_TIMEOUT_MS,
  });
  const backends = new BackendCpuTracker(ctx.pool, () => sink.pid);
  backends.start();
  const done = await waitApplied(ctx, messages, SINK_TIMEOUT_MS - 60_000);
  const wallSeconds = (Date.now() - spawnedAt) / 1000;
  const pgCpu = await backends.stop();
  sink.stop();
  const result = await sink.done;
  if (!done) throw new Error(`sink-drain: ${await appliedCount(ctx)} of ${messages} rows applied:\n${result.outputTail}`);
  const { rows } = await ctx.pool.query(`SELECT count(*)::int AS n, extract(epoch FROM max(applied_at) - min(applied_at)) AS span FROM ${TABLE}`);
  const r = rows[0] as { n: number; span: number };
  const out: SinkDrainResult = {
    messages,
    partitions: ctx.options.sizes.partitions,
    wallSeconds: round(wallSeconds, 2),
    messagesPerSecondWall: Math.round(messages / wallSeconds),
    appliedSpanSeconds: round(Number(r.span), 2),
    messagesPerSecondSpan: Math.round(messages / Number(r.span)),
    rowsInTable: r.n,
    sinkCpuSecondsPer1000Messages: round((result.cpuSeconds / messages) * 1000, 3),
    sinkPostgresCpuSecondsPer1000Messages: round((pgCpu / messages) * 1000, 3),
    sink: result,
  };
  ctx.log(`sink-drain: ${out.messagesPerSecondWall} msg/s from spawn, ${out.messagesPerSecondSpan} msg/s over the applied span (${out.appliedSpanSeconds} s)`);
  return out;
}

export interface SinkLiveResult {
  readonly offeredRate: number;
  readonly seconds: number;
  readonly generator: GeneratorSummary;
  /** Outbox commit (generator) → the row in the consumer table (applied_at), ms. */
  readonly commitToTableMs: Distribution;
  readonly rowsApplied: number;
  readonly rowsMissing: number;
  /** After the generator stopped, until every committed change was in the table. */
  readonly catchUpSeconds: number;
  readonly keptUp: boolean;
  readonly sinkCpuSecondsPer1000Rows: number;
  readonly sink: RelayRunResult;
  readonly relay: RelayRunResult;
}

const WARMUP_ROWS = 20;

export async function runSinkLive(ctx: BenchContext, rate: number, seconds: number): Promise<SinkLiveResult> {
  await resetOutbox(ctx.pool, ctx.fixture);
  const scenario = await newScenarioTopic(ctx, `sinklive${rate}`);
  await createConsumerTable(ctx);
  await ctx.pool.query('CHECKPOINT');
  ctx.log(`sink-live: relay and sink running, ${rate} rows/s offered for ${seconds} s`);
  const relay = spawnRelay({ label: `sinklive${rate}-relay`, cli: ctx.options.relayCli, args: ['run', '--topics', scenario.topicsFile], env: relayEnv(ctx, { LOG_LEVEL: 'info' }), workDir: ctx.workDir, timeoutMs: (seconds + 600) * 1000 });
  const sink = await spawnSink(ctx, scenario, `sinklive${rate}`);
  try {
    await waitForOutput(relay, 'relay running', 30_000);
    const total = Math.round(rate * seconds);
    const warmupUser = Math.max(total + 1, ctx.fixture.users - WARMUP_ROWS);
    // Warm-up: metadata, the group's first assignment; kept out of the measured rows (other users).
    await insertPending(ctx.pool, scenario.topic, WARMUP_ROWS, warmupUser);
    if (!(await waitApplied(ctx, WARMUP_ROWS, 60_000))) throw new Error(`sink-live: warm-up rows not applied:\n${sink.output().slice(-3000)}`);
    const sinkCpuStart = processCpu(sink);
    const commitsFile = join(ctx.workDir, `sinklive${rate}-commits.csv`);
    const generator = await runGenerator(() => undefined, {
      url: BENCH_DATABASE_URL,
      schema: ctx.fixture.schema,
      topic: scenario.topic,
      ratePerSecond: rate,
      durationSeconds: seconds,
      firstUser: 1,
      users: Math.min(ctx.fixture.users, warmupUser - 1),
      connections: GENERATOR_CONNECTIONS,
      rowsPerTransaction: rowsPerTransaction(rate),
      outFile: commitsFile,
    });
    const catchUpStarted = Date.now();
    await waitPendingZero(ctx, scenario.topic, 180_000, false);
    const caughtUp = await waitApplied(ctx, WARMUP_ROWS + generator.committed, 180_000);
    const catchUpSeconds = (Date.now() - catchUpStarted) / 1000;
    const sinkCpu = processCpu(sink) - sinkCpuStart;
    const latency = await commitToTable(ctx, commitsFile);
    relay.stop();
    sink.stop();
    const [relayResult, sinkResult] = await Promise.all([relay.done, sink.done]);
    const result: SinkLiveResult = {
      offeredRate: rate,
      seconds,
      generator,
      commitToTableMs: latency.distribution,
      rowsApplied: latency.matched,
      rowsMissing: generator.committed - latency.matched,
      catchUpSeconds: round(catchUpSeconds, 2),
      keptUp: caughtUp && generator.achievedRate >= 0.95 * rate && catchUpSeconds <= 2,
      sinkCpuSecondsPer1000Rows: round((sinkCpu / Math.max(1, generator.committed)) * 1000, 3),
      sink: sinkResult,
      relay: relayResult,
    };
    const d = result.commitToTableMs;
    ctx.log(`sink-live ${rate}/s: commit→table p50 ${d.p50} ms, p95 ${d.p95} ms, p99 ${d.p99} ms, max ${d.max} ms; kept up: ${result.keptUp ? 'yes' : 'no'}`);
    return result;
  } finally {
    relay.stop();
    sink.stop();
    await Promise.all([relay.done, sink.done]);
  }
}

function processCpu(child: RelayChild): number {
  return processCpuSeconds(child.pid) ?? NaN;
}

/** Per committed user: applied_at in the consumer table minus the generator's commit time. */
async function commitToTable(ctx: BenchContext, commitsFile: string): Promise<{ distribution: Distribution; matched: number }> {
  const commitByUser = new Map<number, number>();
  for (const line of readFileSync(commitsFile, 'utf8').split('\n')) {
    if (line === '') continue;
    const [user, , commitMs] = line.split(',');
    commitByUser.set(Number(user), Number(commitMs));
  }
  const { rows } = await ctx.pool.query(`SELECT synced_id::int AS user, extract(epoch FROM applied_at) * 1000 AS ms FROM ${TABLE}`);
  const latencies: number[] = [];
  for (const r of rows as Array<{ user: number; ms: string }>) {
    const commitMs = commitByUser.get(r.user);
    if (commitMs !== undefined) latencies.push(Number(r.ms) - commitMs);
  }
  const d = distribution(latencies);
  return { distribution: { count: d.count, p50: round(d.p50, 1), p95: round(d.p95, 1), p99: round(d.p99, 1), max: round(d.max, 1), mean: round(d.mean, 1) }, matched: latencies.length };
}
