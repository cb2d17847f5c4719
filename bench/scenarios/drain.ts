import { BackendCpuTracker } from '../backend-cpu';
import { cpuMeter, newScenarioTopic, publishedSpan, relayEnv, type BenchContext } from '../context';
import { insertPending, resetOutbox } from '../fixture';
import { consumeTopic, duplicateCounts } from '../kafka';
import { roundedSplit, type MeasuredCpu } from '../proc';
import { freePort, spawnRelay, type RelayRunResult } from '../relay-runner';
import { round } from '../stats';

/**
 * Drain: a backlog of pending rows, relay process(es) started cold with `run --exit-when-idle`,
 * timed from spawn to exit; the rows' published_at span gives the steady rate without start-up.
 * With two relays it is the scale-out scenario. Every row names a distinct user, so the topic read
 * back must hold exactly one message per key: any extra copy is a row published twice.
 */
export interface DrainOptions {
  readonly label: string;
  readonly rows: number;
  readonly relays: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly profileDir?: string | undefined;
  /** Read the topic back and count messages per key (duplicates, message size). */
  readonly verify: boolean;
  /** The topic's `ordering` (default snapshot). */
  readonly ordering?: 'snapshot' | 'strict';
}

export interface DrainResult {
  readonly label: string;
  readonly rows: number;
  readonly relays: number;
  readonly ordering: 'snapshot' | 'strict';
  readonly env: Readonly<Record<string, string>>;
  /** First spawn to last exit. */
  readonly wallSeconds: number;
  readonly rowsPerSecondWall: number;
  /** max(published_at) - min(published_at): the steady drain, start-up excluded. */
  readonly publishedSpanSeconds: number;
  readonly rowsPerSecondSpan: number;
  /** Spawn to the first row's published_at: connect, serializer check, metadata, first batch. */
  readonly startupSeconds: number;
  readonly unpublished: number;
  /**
   * Set when the relays were still running this long after the last row was published and were
   * stopped with SIGTERM: `--exit-when-idle` did not notice that nothing was left.
   */
  readonly exitWhenIdleStuckSeconds?: number;
  readonly relayProcesses: readonly RelayRunResult[];
  readonly relayCpuSeconds: number;
  readonly relayCpuSecondsPer1000Rows: number;
  /**
   * Relay CPU per 1000 rows over the published_at span only (from /proc samples): the per-row cost
   * without the process's fixed start-up and exit (about 0.4 s of CPU), which the figure above
   * spreads over the rows.
   */
  readonly relaySpanCpuSecondsPer1000Rows?: number;
  readonly relayPeakRssMiB: number;
  /** CPU of the PostgreSQL backends serving the relay process(es) (claims, serializers, marks). */
  readonly relayPostgresCpuSeconds: number;
  readonly relayPostgresCpuSecondsPer1000Rows: number;
  readonly cpu: MeasuredCpu;
  readonly verification?: {
    readonly messagesRead: number;
    readonly distinctKeys: number;
    readonly duplicatedKeys: number;
    readonly extraMessages: number;
    readonly meanValueBytes: number;
  };
}

export async function runDrain(ctx: BenchContext, options: DrainOptions): Promise<DrainResult> {
  await resetOutbox(ctx.pool, ctx.fixture);
  const scenario = await newScenarioTopic(ctx, options.label, options.ordering);
  await insertPending(ctx.pool, scenario.topic, options.rows);
  await ctx.pool.query('CHECKPOINT');
  const env = relayEnv(ctx, options.env);
  ctx.log(`${options.label}: ${options.rows} pending rows, ${options.relays} relay(s)${options.ordering === 'strict' ? ', ordering: strict' : ''}${describeEnv(options.env)}`);

  const meter = cpuMeter(ctx);
  let relayPgCpu = 0;
  meter.start();
  const ports = await Promise.all(Array.from({ length: options.relays }, () => freePort()));
  const children = ports.map((metricsPort, i) =>
    spawnRelay({
      metricsPort,
      cli: ctx.options.relayCli,
      label: `${options.label}-${i + 1}`,
      args: ['run', '--exit-when-idle', '--topics', scenario.topicsFile],
      env,
      workDir: ctx.workDir,
      profileDir: options.profileDir,
      timeoutMs: 15 * 60_000,
    }),
  );
  const trackers = children.map((c) => new BackendCpuTracker(ctx.pool, () => c.pid));
  for (const t of trackers) t.start();
  const stuck = watchForStuckExit(ctx, scenario.topic, children);
  const results = await Promise.all(
    children.map(async (c, i) => {
      // Read the backends' CPU while the relay still holds them: stop tracking once it exits.
      const r = await c.done;
      return { r, pgCpu: await (trackers[i] as BackendCpuTracker).stop() };
    }),
  ).then((all) => {
    relayPgCpu = all.reduce((sum, x) => sum + x.pgCpu, 0);
    return all.map((x) => x.r);
  });
  const stuckAfterAllPublishedSeconds = stuck.stop();
  const otherCpu = meter.stop();
  for (const r of results) {
    if (r.exitCode !== 0) throw new Error(`${r.label} exited with ${String(r.exitCode)}:\n${r.outputTail}`);
  }
  const span = await publishedSpan(ctx, scenario.topic);
  const spawnedAt = Math.min(...results.map((r) => r.spawnedAtMs));
  // A relay that never noticed it was idle is stopped by the watchdog; its rate is then taken to
  // the moment every row was published, and the problem is reported.
  const exitedAt = stuckAfterAllPublishedSeconds === undefined ? Math.max(...results.map((r) => r.exitedAtMs)) : span.lastMs;
  const wallSeconds = (exitedAt - spawnedAt) / 1000;
  const relayCpu = results.reduce((s, r) => s + r.cpuSeconds, 0);
  const spanCpu = children.reduce((sum, c) => sum + (c.cpuAt(span.lastMs) - c.cpuAt(span.firstMs)), 0);
  const result: DrainResult = {
    label: options.label,
    rows: options.rows,
    relays: options.relays,
    ordering: options.ordering ?? 'snapshot',
    env: options.env ?? {},
    wallSeconds: round(wallSeconds, 2),
    rowsPerSecondWall: Math.round(options.rows / wallSeconds),
    publishedSpanSeconds: round(span.spanSeconds, 2),
    rowsPerSecondSpan: Math.round(span.published / span.spanSeconds),
    startupSeconds: round((span.firstMs - spawnedAt) / 1000, 2),
    unpublished: span.pending,
    ...(stuckAfterAllPublishedSeconds !== undefined ? { exitWhenIdleStuckSeconds: stuckAfterAllPublishedSeconds } : {}),
    relayProcesses: results,
    relayCpuSeconds: round(relayCpu, 2),
    relayCpuSecondsPer1000Rows: round((relayCpu / options.rows) * 1000, 3),
    // No span when the rows are deleted on publish (RELAY_ON_PUBLISH=delete).
    ...(Number.isFinite(spanCpu) && span.published > 0 ? { relaySpanCpuSecondsPer1000Rows: round((spanCpu / span.published) * 1000, 4) } : {}),
    relayPeakRssMiB: round(Math.max(...results.map((r) => r.peakRssMiB)), 1),
    relayPostgresCpuSeconds: round(relayPgCpu, 2),
    relayPostgresCpuSecondsPer1000Rows: round((relayPgCpu / options.rows) * 1000, 3),
    cpu: roundedSplit(otherCpu, relayCpu),
    ...(options.verify ? { verification: await verify(scenario.topic, options.rows) } : {}),
  };
  ctx.log(
    `${options.label}: ${result.rowsPerSecondWall} rows/s spawn→exit (${result.wallSeconds} s), ` +
      `${result.rowsPerSecondSpan} rows/s over the published_at span, relay CPU ${result.relayCpuSeconds} s${result.relaySpanCpuSecondsPer1000Rows === undefined ? '' : ` (${round(result.relaySpanCpuSecondsPer1000Rows * 1000, 1)} µs a row over the span)`} ` +
      `(+ ${result.relayPostgresCpuSeconds} s in its Postgres backends), ` +
      `peak RSS ${result.relayPeakRssMiB} MiB${result.verification ? `, duplicates ${result.verification.extraMessages}` : ''}`,
  );
  for (const r of results) {
    if (r.phases) ctx.log(`${r.label}: mean ms per batch ${JSON.stringify(r.phases.meanMs)}, ${r.phases.batches} batches of ${r.phases.meanBatchSize}`);
  }
  return result;
}

async function verify(topic: string, rows: number): Promise<NonNullable<DrainResult['verification']>> {
  const perKey = new Map<string, number>();
  let bytes = 0;
  const { read } = await consumeTopic(
    topic,
    rows,
    (m) => {
      perKey.set(m.key, (perKey.get(m.key) ?? 0) + 1);
      bytes += m.value.length;
    },
    { timeoutMs: 120_000, settleMs: 1_500 },
  );
  const dup = duplicateCounts(perKey);
  return { messagesRead: read, ...dup, meanValueBytes: read === 0 ? 0 : Math.round(bytes / read) };
}

const STUCK_AFTER_MS = 15_000;

/**
 * Watches the backlog while the relays run. Once nothing is pending, they have STUCK_AFTER_MS to
 * exit on their own; after that they get SIGTERM. `stop()` returns how long they overstayed, or
 * undefined when they exited in time.
 */
function watchForStuckExit(
  ctx: BenchContext,
  topic: string,
  children: ReadonlyArray<{ stop(): void; done: Promise<unknown> }>,
): { stop(): number | undefined } {
  let drainedAt: number | undefined;
  let stoppedAfter: number | undefined;
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    // EXISTS, not count(*): this runs during the measured drain, and counting a 200k-row backlog
    // once a second cost PostgreSQL about 70 ms a time (7% of a core) taken from the relay's share.
    void ctx.pool
      .query('SELECT EXISTS (SELECT 1 FROM dionysus_outboxes WHERE published_at IS NULL AND topic = $1) AS pending', [topic])
      .then(({ rows }) => {
        if ((rows[0] as { pending: boolean }).pending) {
          drainedAt = undefined;
          return;
        }
        drainedAt ??= Date.now();
        if (stoppedAfter === undefined && Date.now() - drainedAt > STUCK_AFTER_MS) {
          stoppedAfter = (Date.now() - drainedAt) / 1000;
          ctx.log(`relay still running ${stoppedAfter.toFixed(0)} s after the last row was published: --exit-when-idle did not fire; sending SIGTERM`);
          for (const c of children) c.stop();
        }
      })
      .catch(() => undefined)
      .finally(() => (checking = false));
  }, 1_000);
  return {
    stop: () => {
      clearInterval(timer);
      return stoppedAfter;
    },
  };
}

function describeEnv(env: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(env ?? {});
  return entries.length === 0 ? '' : ` (${entries.map(([k, v]) => `${k}=${v}`).join(' ')})`;
}
