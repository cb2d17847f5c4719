import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root';
import type { BenchContext } from '../context';
import type { GeneratorConfig, GeneratorSummary } from '../live-generator';
import { consumeTopic } from '../kafka';
import { distribution, round, slope, type Distribution } from '../stats';

/** The live scenario's helpers: trigger, generator process, backlog sampling, latency read-back. */

/** Installs (the project's own sql/optional/notify_trigger.sql) or removes the NOTIFY trigger. */
export async function setNotifyTrigger(ctx: BenchContext, on: boolean): Promise<void> {
  if (on) {
    await ctx.pool.query(readFileSync(join(packageRoot(), 'sql', 'optional', 'notify_trigger.sql'), 'utf8'));
  } else {
    await ctx.pool.query('DROP TRIGGER IF EXISTS dionysus_relay_notify_outbox ON dionysus_outboxes');
  }
}

/** Runs build/bench/live-generator.js as a child; `onSpawn` gets its pid (for its backends' CPU). */
export function runGenerator(onSpawn: (pid: number | undefined) => void, config: GeneratorConfig): Promise<GeneratorSummary> {
  const script = join(packageRoot(), 'build', 'bench', 'live-generator.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
    onSpawn(child.pid);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`live generator exited with ${String(code)}: ${out}`));
      else resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as GeneratorSummary);
    });
  });
}

export async function countPending(ctx: BenchContext, topic: string): Promise<number> {
  const { rows } = await ctx.pool.query('SELECT count(*)::int AS n FROM dionysus_outboxes WHERE published_at IS NULL AND topic = $1', [topic]);
  return (rows[0] as { n: number }).n;
}

/** Resolves true once nothing is pending; after `timeoutMs` throws, or resolves false when `orThrow` is off. */
export async function waitPendingZero(ctx: BenchContext, topic: string, timeoutMs: number, orThrow = true): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while ((await countPending(ctx, topic)) > 0) {
    if (Date.now() > deadline) {
      if (orThrow) throw new Error(`rows of ${topic} still pending after ${timeoutMs} ms`);
      return false;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

export interface PendingSummary {
  readonly samples: number;
  readonly max: number;
  readonly mean: number;
  /** Least-squares slope over the second half of the load: > 0 means the backlog kept growing. */
  readonly slopeRowsPerSecond: number;
  readonly atGeneratorEnd: number;
}

/** Samples the pending count of a topic every `everyMs` until `stop()`. */
export function samplePending(ctx: BenchContext, topic: string, everyMs: number): { stop(loadEndSeconds: number, atEnd: number): PendingSummary } {
  const samples: Array<[number, number]> = [];
  const started = Date.now();
  const timer = setInterval(() => {
    void countPending(ctx, topic)
      .then((n) => samples.push([(Date.now() - started) / 1000, n]))
      .catch(() => undefined);
  }, everyMs);
  return {
    stop(loadEndSeconds, atEnd) {
      clearInterval(timer);
      const during = samples.filter(([t]) => t <= loadEndSeconds);
      const values = during.map(([, n]) => n);
      return {
        samples: values.length,
        max: Math.max(0, ...values),
        mean: Math.round(values.reduce((s, n) => s + n, 0) / Math.max(1, values.length)),
        slopeRowsPerSecond: round(slope(during.filter(([t]) => t >= loadEndSeconds / 2)), 1),
        atGeneratorEnd: atEnd,
      };
    },
  };
}

/**
 * Commit → broker append per row: commit times from the generator's file (by user, each user
 * changes once per run), LogAppendTime from the topic. Warm-up rows (other users) are skipped;
 * a second message for a user counts as a duplicate. Also the earliest commit and the latest
 * append of the matched rows (a burst's span).
 */
export async function measureLatency(
  topic: string,
  commitsFile: string,
  expected: number,
): Promise<{ distribution: Distribution; matched: number; duplicates: number; firstCommitMs: number; lastAppendMs: number }> {
  const commitByUser = new Map<string, number>();
  for (const line of readFileSync(commitsFile, 'utf8').split('\n')) {
    if (line === '') continue;
    const [user, , commitMs] = line.split(',');
    commitByUser.set(`User:${user}`, Number(commitMs));
  }
  const seen = new Set<string>();
  const latencies: number[] = [];
  let duplicates = 0;
  let firstCommitMs = Infinity;
  let lastAppendMs = -Infinity;
  await consumeTopic(
    topic,
    expected,
    (m) => {
      const commitMs = commitByUser.get(m.key);
      if (commitMs === undefined) return;
      if (seen.has(m.key)) {
        duplicates += 1;
        return;
      }
      seen.add(m.key);
      latencies.push(m.timestampMs - commitMs);
      firstCommitMs = Math.min(firstCommitMs, commitMs);
      lastAppendMs = Math.max(lastAppendMs, m.timestampMs);
    },
    { timeoutMs: 120_000, settleMs: 1_000 },
  );
  const d = distribution(latencies);
  return {
    distribution: { count: d.count, p50: round(d.p50, 1), p95: round(d.p95, 1), p99: round(d.p99, 1), max: round(d.max, 1), mean: round(d.mean, 1) },
    matched: seen.size,
    duplicates,
    firstCommitMs,
    lastAppendMs,
  };
}

/** published_at - created_at of the run's rows (the relay's mark, after the ack), ms. */
export async function markLatency(ctx: BenchContext, topic: string): Promise<{ p50: number; p99: number; max: number }> {
  const { rows } = await ctx.pool.query(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
       FROM (SELECT extract(epoch FROM published_at - created_at) * 1000 AS ms
               FROM dionysus_outboxes WHERE topic = $1 AND id > $2 AND published_at IS NOT NULL) t`,
    [topic, ctx.fixture.historyMaxId],
  );
  const r = rows[0] as { p50: number; p99: number; max: string };
  return { p50: round(Number(r.p50), 1), p99: round(Number(r.p99), 1), max: round(Number(r.max), 1) };
}
