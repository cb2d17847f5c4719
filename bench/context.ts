import type { Pool } from 'pg';
import { loadSettings, type Settings } from '../src/config/settings';
import type { FixtureInfo } from './fixture';
import { BENCH_DATABASE_URL, writeTopicsFile } from './fixture';
import { BENCH_KAFKA_BROKERS, createBenchTopic } from './kafka';
import type { BenchOptions } from './options';
import { CpuMeter } from './proc';

/** What every scenario gets from the runner. */
export interface BenchContext {
  readonly options: BenchOptions;
  readonly fixture: FixtureInfo;
  /** Harness pool on the bench schema. */
  readonly pool: Pool;
  /** Temporary folder of this run (topics files, probes, generator output, profiles). */
  readonly workDir: string;
  readonly runId: string;
  readonly postmasterPid: number | undefined;
  readonly brokerPid: number | undefined;
  log(line: string): void;
  /** Topics created by this run, deleted at the end. */
  readonly createdTopics: string[];
}

/**
 * Env of a relay child: the bench schema, quiet logs, no HTTP server, then the --set overrides,
 * then the scenario's own. Nothing else of the harness's environment leaks in.
 */
export function relayEnv(ctx: BenchContext, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return {
    DATABASE_URL: BENCH_DATABASE_URL,
    DATABASE_SCHEMA: ctx.fixture.schema,
    KAFKA_BROKERS: BENCH_KAFKA_BROKERS,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'warn',
    HTTP_PORT: '0',
    ...ctx.options.relayEnv,
    ...extra,
  };
}

/** The relay's effective settings for an env (defaults + overrides), as the child will see them. */
export function effectiveSettings(env: Record<string, string>): Settings {
  return loadSettings({ env });
}

export interface ScenarioTopic {
  readonly namespace: string;
  /** Full topic name as in dionysus_outboxes.topic and Kafka. */
  readonly topic: string;
  readonly topicsFile: string;
}

/** A fresh Kafka topic (LogAppendTime) and the topics YAML that points the relay at it. */
export async function newScenarioTopic(ctx: BenchContext, label: string, ordering: 'snapshot' | 'strict' = 'snapshot'): Promise<ScenarioTopic> {
  const namespace = `bench_${ctx.runId}_${label.replace(/[^a-z0-9]/gi, '_')}`;
  const topic = `${namespace}_users`;
  await createBenchTopic(topic, ctx.options.sizes.partitions);
  ctx.createdTopics.push(topic);
  return { namespace, topic, topicsFile: writeTopicsFile(ctx.workDir, namespace, `topics-${label}.yaml`, ordering) };
}

export function cpuMeter(ctx: BenchContext): CpuMeter {
  return new CpuMeter(ctx.postmasterPid, ctx.brokerPid);
}

/** Published-at span of a topic's rows added by this run: the relay's own throughput clock. */
export async function publishedSpan(
  ctx: BenchContext,
  topic: string,
): Promise<{ rows: number; published: number; pending: number; firstMs: number; lastMs: number; spanSeconds: number }> {
  const { rows } = await ctx.pool.query(
    `SELECT count(*)::int AS rows, count(published_at)::int AS published,
            extract(epoch FROM min(published_at)) * 1000 AS first_ms, extract(epoch FROM max(published_at)) * 1000 AS last_ms
       FROM dionysus_outboxes WHERE topic = $1 AND id > $2`,
    [topic, ctx.fixture.historyMaxId],
  );
  const r = rows[0] as { rows: number; published: number; first_ms: string | null; last_ms: string | null };
  const firstMs = Number(r.first_ms ?? NaN);
  const lastMs = Number(r.last_ms ?? NaN);
  return { rows: r.rows, published: r.published, pending: r.rows - r.published, firstMs, lastMs, spanSeconds: (lastMs - firstMs) / 1000 };
}
