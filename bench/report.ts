import type { FixtureInfo } from './fixture';
import type { MachineInfo } from './machine';
import type { ProfileSummary } from './profile-summary';
import type { KafkaCeilingResult, PostgresCeilingResult } from './scenarios/ceilings';
import type { BurstResult } from './scenarios/burst';
import type { DrainResult } from './scenarios/drain';
import type { SchemaCostResult } from './scenarios/schema-cost';
import type { LiveResult } from './scenarios/live';
import type { SinkDrainResult, SinkLiveResult } from './scenarios/sink';
import type { StrictDrainResult } from './scenarios/strict';
import { round } from './stats';

/** The JSON written under bench/results/ (one file per run). */
export interface BenchResult {
  readonly resultVersion: 1;
  readonly mode: 'quick' | 'full';
  readonly command: string;
  readonly startedAt: string;
  readonly durationSeconds: number;
  readonly machine: MachineInfo;
  /** The machine's 1/5/15-minute load averages when the run started and ended. */
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly relayRevision: { commit: string; srcDirty: boolean; cli: string };
  readonly relaySettings: { batchSize: number; maxInflightBatches: number; pollIntervalMs: number; poolSize: number; librdkafka: Record<string, unknown> };
  readonly fixture: FixtureInfo;
  readonly scenarios: {
    readonly drain?: DrainResult;
    /** Rows committed while the relay idles: large transactions, then small ones. */
    readonly burst: readonly BurstResult[];
    /** The drain on the gem's indexes, on the publishing index alone, and with on_publish delete. */
    readonly schemaCost?: SchemaCostResult;
    readonly scaleOut?: DrainResult;
    /** ordering: strict, without and with sql/optional/strict_retry_index.sql. */
    readonly strict?: StrictDrainResult;
    readonly live: readonly LiveResult[];
    /** The sink applying a topic the relay filled (messages/s). */
    readonly sinkDrain?: SinkDrainResult;
    /** Outbox commit → consumer table under the live load. */
    readonly sinkLive: readonly SinkLiveResult[];
    readonly ceilingPostgres?: PostgresCeilingResult;
    readonly ceilingKafka?: KafkaCeilingResult;
    readonly profiledDrain?: DrainResult;
    readonly sweep: readonly DrainResult[];
  };
  readonly profile?: ProfileSummary;
  readonly ratios: {
    /** Relay drain (published_at span) / Postgres claim-and-mark ceiling. */
    readonly drainToPostgresCeiling?: number;
    /** Relay drain (published_at span) / raw librdkafka produce rate. */
    readonly drainToKafkaCeiling?: number;
  };
  readonly targets: readonly Target[];
}

export interface Target {
  readonly name: string;
  readonly target: string;
  readonly actual: string;
  readonly met: boolean | null;
}

export function computeRatios(s: BenchResult['scenarios']): BenchResult['ratios'] {
  const drain = s.drain?.rowsPerSecondSpan;
  return {
    ...(drain !== undefined && s.ceilingPostgres ? { drainToPostgresCeiling: round(drain / s.ceilingPostgres.rowsPerSecond, 3) } : {}),
    ...(drain !== undefined && s.ceilingKafka ? { drainToKafkaCeiling: round(drain / s.ceilingKafka.messagesPerSecond, 3) } : {}),
  };
}

/** The targets, each judged on the figures of this run (null: not measured). */
export function judgeTargets(s: BenchResult['scenarios'], ratios: BenchResult['ratios']): Target[] {
  const targets: Target[] = [];
  const add = (name: string, target: string, actual: number | undefined, met: (v: number) => boolean, unit: string): void => {
    targets.push({ name, target, actual: actual === undefined ? 'not measured' : `${actual}${unit}`, met: actual === undefined ? null : met(actual) });
  };
  add('drain rate (published_at span)', '>= 25000 rows/s', s.drain?.rowsPerSecondSpan, (v) => v >= 25_000, ' rows/s');
  add('drain rate (spawn to exit)', '>= 25000 rows/s', s.drain?.rowsPerSecondWall, (v) => v >= 25_000, ' rows/s');
  add('drain / claim-and-mark ceiling', '>= 60%', pct(ratios.drainToPostgresCeiling), (v) => v >= 60, '%');
  // Targets are judged on the default installation (no NOTIFY trigger); trigger runs are extra.
  const live = (rate: number): LiveResult | undefined => s.live.find((l) => l.offeredRate === rate && !l.notifyTrigger);
  add('live 5k rows/s p99', '<= 50 ms', live(5000)?.commitToAckMs.p99, (v) => v <= 50, ' ms');
  add('live 5k rows/s p50', '<= 10 ms', live(5000)?.commitToAckMs.p50, (v) => v <= 10, ' ms');
  add('live 1k rows/s p99', '<= 25 ms', live(1000)?.commitToAckMs.p99, (v) => v <= 25, ' ms');
  const rss = Math.max(
    s.drain?.relayPeakRssMiB ?? 0,
    s.scaleOut?.relayPeakRssMiB ?? 0,
    ...s.live.map((l) => round(l.relay.peakRssMiB, 1)),
  );
  add('relay peak RSS', '<= 200 MB', rss === 0 ? undefined : round(rss * 1.048576, 1), (v) => v <= 200, ' MB');
  if (s.sinkDrain) {
    const relayRate = s.drain?.rowsPerSecondSpan;
    targets.push({
      name: 'sink applies at least as fast as the relay publishes',
      target: '>= relay drain (span)',
      actual: `${s.sinkDrain.messagesPerSecondSpan} vs ${relayRate ?? 'not measured'} msg/s`,
      met: relayRate === undefined ? null : s.sinkDrain.messagesPerSecondSpan >= relayRate,
    });
  }
  for (const l of s.sinkLive) {
    targets.push({ name: `sink live ${l.offeredRate}/s keeps up`, target: 'yes', actual: `${l.keptUp ? 'yes' : 'no'}, commit→table p99 ${l.commitToTableMs.p99} ms`, met: l.keptUp });
  }
  if (s.drain && s.scaleOut) {
    const dup = s.scaleOut.verification?.extraMessages;
    targets.push({
      name: 'two relays vs one, duplicates',
      target: '>= one relay, 0 duplicates',
      actual: `${s.scaleOut.rowsPerSecondSpan} vs ${s.drain.rowsPerSecondSpan} rows/s, ${dup ?? 'unchecked'} duplicates`,
      met: s.scaleOut.rowsPerSecondSpan >= s.drain.rowsPerSecondSpan && dup === 0,
    });
  }
  return targets;
}

function pct(ratio: number | undefined): number | undefined {
  return ratio === undefined ? undefined : round(ratio * 100, 1);
}

/** The human summary printed at the end of a run. */
export function formatSummary(r: BenchResult): string {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(`dionysus-relay benchmark (${r.mode}) — ${m.cores} cores ${m.cpuModel}, ${m.memoryGiB} GiB, node ${m.node}, ` +
    `PostgreSQL ${m.postgres}, Kafka ${m.kafka}, librdkafka ${m.librdkafka}`);
  lines.push(`load average (1/5/15 min): ${r.loadAverage.start.join(' ')} at the start, ${r.loadAverage.end.join(' ')} at the end`);
  lines.push(`relay: batch ${r.relaySettings.batchSize}, in-flight ${r.relaySettings.maxInflightBatches}, poll ${r.relaySettings.pollIntervalMs} ms; ` +
    `history ${r.fixture.historyRows} rows`);
  const rows: string[][] = [['scenario', 'figure', 'value']];
  const s = r.scenarios;
  const drains = [
    ['drain', s.drain],
    ['scale-out (2 relays)', s.scaleOut],
    ['strict, gem indexes only', s.strict?.withoutIndex],
    ['strict, + retry-wait index', s.strict?.withIndex],
  ] as const;
  for (const [name, d] of drains) {
    if (!d) continue;
    rows.push([name, `${d.rows} rows, spawn→exit`, `${d.rowsPerSecondWall} rows/s (${d.wallSeconds} s)`]);
    rows.push(['', 'published_at span', `${d.rowsPerSecondSpan} rows/s (${d.publishedSpanSeconds} s)`]);
    rows.push(['', 'CPU s / 1000 rows: relay, its PG backends', `${d.relayCpuSecondsPer1000Rows}, ${d.relayPostgresCpuSecondsPer1000Rows}`]);
    rows.push(['', 'relay CPU µs / row over the span', d.relaySpanCpuSecondsPer1000Rows === undefined ? '–' : `${round(d.relaySpanCpuSecondsPer1000Rows * 1000, 1)}`]);
    rows.push(['', 'peak RSS (largest relay)', `${d.relayPeakRssMiB} MiB`]);
    rows.push(['', 'CPU s: relay / all PG / broker / not ours', `${d.relayCpuSeconds} / ${d.cpu.postgres} / ${d.cpu.broker} / ${d.cpu.unattributed}`]);
    if (d.exitWhenIdleStuckSeconds !== undefined) rows.push(['', 'PROBLEM', `--exit-when-idle did not exit; stopped ${d.exitWhenIdleStuckSeconds} s after the last row`]);
    if (d.verification) rows.push(['', 'messages read, duplicates', `${d.verification.messagesRead}, ${d.verification.extraMessages} (${d.verification.meanValueBytes} B/msg)`]);
  }
  for (const b of s.burst) {
    rows.push([`burst, ${b.rowsPerTransaction} rows/tx`, `${b.rows} rows, first commit→last append`, `${b.rowsPerSecond} rows/s (${b.commitToLastAppendSeconds} s)`]);
    rows.push(['', 'µs/row: relay, its PG backends, broker, all PG', `${b.relayCpuMicrosPerRow}, ${b.relayPostgresCpuMicrosPerRow}, ${b.brokerCpuMicrosPerRow}, ${b.postgresCpuMicrosPerRow}`]);
    rows.push(['', 'commit→ack p50/p99/max, duplicates', `${b.commitToAckMs.p50} / ${b.commitToAckMs.p99} / ${b.commitToAckMs.max} ms, ${b.duplicateMessages}`]);
  }
  if (s.schemaCost) {
    const c = s.schemaCost;
    for (const [name, d, pg] of [
      ["gem's 8 indexes", c.gemIndexes, c.postgresCpuMicrosPerRow.gemIndexes],
      ['publishing index only', c.publishingIndexOnly, c.postgresCpuMicrosPerRow.publishingIndexOnly],
      ['on_publish delete', c.onPublishDelete, c.postgresCpuMicrosPerRow.onPublishDelete],
    ] as const) {
      rows.push([`schema cost: ${name}`, 'rows/s (spawn→exit), all-PG µs/row, relay PG µs/row', `${d.rowsPerSecondWall}, ${pg}, ${round(d.relayPostgresCpuSecondsPer1000Rows * 1000, 1)}`]);
    }
    rows.push(['', 'per convenience index (relay PG µs/row)', `${c.perIndexMicrosPerRow} (${c.droppedIndexes.length} indexes)`]);
  }
  for (const l of s.live) {
    rows.push([`live ${l.offeredRate}/s × ${l.seconds} s${l.notifyTrigger ? ' +NOTIFY' : ''}`, 'commit→ack p50/p95/p99/max', `${l.commitToAckMs.p50} / ${l.commitToAckMs.p95} / ${l.commitToAckMs.p99} / ${l.commitToAckMs.max} ms`]);
    rows.push(['', 'generator achieved, kept up', `${l.generator.achievedRate} rows/s, ${l.keptUp ? 'yes' : 'NO'} (pending max ${l.pending.max}, slope ${l.pending.slopeRowsPerSecond}/s)`]);
    rows.push(['', 'relay CPU / 1000 rows, its PG backends, RSS', `${l.relayCpuSecondsPer1000Rows} s, ${l.relayPostgresCpuSecondsPer1000Rows} s, ${round(l.relay.peakRssMiB, 1)} MiB`]);
    rows.push(['', 'generator rows/tx, commit p50/p99', `${l.generator.rowsPerTransaction}, ${l.generator.commitMsP50} / ${l.generator.commitMsP99} ms`]);
  }
  if (s.sinkDrain) {
    const d = s.sinkDrain;
    rows.push(['sink drain', `${d.messages} messages, ${d.partitions} partitions, spawn→applied`, `${d.messagesPerSecondWall} msg/s (${d.wallSeconds} s)`]);
    rows.push(['', 'applied_at span', `${d.messagesPerSecondSpan} msg/s (${d.appliedSpanSeconds} s)`]);
    rows.push(['', 'CPU s / 1000 messages: sink, its PG backends; RSS', `${d.sinkCpuSecondsPer1000Messages}, ${d.sinkPostgresCpuSecondsPer1000Messages}; ${round(d.sink.peakRssMiB, 1)} MiB`]);
  }
  for (const l of s.sinkLive) {
    rows.push([`sink live ${l.offeredRate}/s × ${l.seconds} s`, 'commit→consumer table p50/p95/p99/max', `${l.commitToTableMs.p50} / ${l.commitToTableMs.p95} / ${l.commitToTableMs.p99} / ${l.commitToTableMs.max} ms`]);
    rows.push(['', 'rows applied, missing, kept up', `${l.rowsApplied}, ${l.rowsMissing}, ${l.keptUp ? 'yes' : 'NO'} (catch-up ${l.catchUpSeconds} s)`]);
    rows.push(['', 'sink CPU s / 1000 rows', `${l.sinkCpuSecondsPer1000Rows}`]);
  }
  if (s.ceilingPostgres) {
    const c = s.ceilingPostgres;
    rows.push(['ceiling: claim+mark', `${c.rows} rows, batch ${c.batchSize} × ${c.connections} conns`, `${c.rowsPerSecond} rows/s, ${c.postgresCpuSecondsPer1000Rows} PG cpu-s/1k`]);
  }
  if (s.ceilingKafka) {
    const c = s.ceilingKafka;
    rows.push(['ceiling: librdkafka', `${c.messages} × ${c.valueBytes} B`, `${c.messagesPerSecond} msg/s`]);
  }
  if (r.ratios.drainToPostgresCeiling !== undefined) rows.push(['ratio', 'drain / claim+mark ceiling', `${pct(r.ratios.drainToPostgresCeiling)}%`]);
  if (r.ratios.drainToKafkaCeiling !== undefined) rows.push(['ratio', 'drain / librdkafka ceiling', `${pct(r.ratios.drainToKafkaCeiling)}%`]);
  for (const d of s.sweep) {
    rows.push(['sweep', Object.entries(d.env).map(([k, v]) => `${k.replace(/^RELAY_|^KAFKA_/, '')}=${v}`).join(' ') || 'defaults',
      `${d.rowsPerSecondSpan} rows/s span, ${d.rowsPerSecondWall} wall, ${d.relayCpuSecondsPer1000Rows} cpu-s/1k`]);
  }
  lines.push(table(rows));
  if (r.profile) {
    lines.push(`profile (${r.profile.busyMs} ms busy of ${r.profile.totalMs} ms): ` +
      r.profile.categories.slice(0, 6).map((c) => `${c.frame} ${c.pct}%`).join(', '));
    for (const f of r.profile.topSelf.slice(0, 10)) lines.push(`  ${String(f.pct).padStart(5)}%  ${f.frame}`);
  }
  lines.push(table([['target', 'wanted', 'measured', 'met'], ...r.targets.map((t) => [t.name, t.target, t.actual, t.met === null ? '-' : t.met ? 'yes' : 'NO'])]));
  return lines.join('\n');
}

function table(rows: readonly string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  const fmt = (r: readonly string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ');
  return [fmt(rows[0] ?? []), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(fmt)].join('\n');
}
