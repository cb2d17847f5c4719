import type { Analysis, OrderViolation } from './analysis';
import type { FaultRecord } from './faults';
import type { ReadMessage } from './kafka-reader';
import type { FaultSuiteOptions, FaultType } from './options';
import { FAULT_TYPES } from './options';
import { isCrash, type UnexpectedExit } from './relays';
import type { WriterStats } from './writers';

export interface Check {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

export interface RunFacts {
  readonly options: FaultSuiteOptions;
  readonly command: string;
  readonly phasesMs: Record<string, number>;
  readonly writers: readonly WriterStats[];
  readonly faults: readonly FaultRecord[];
  readonly relayStarts: number;
  readonly unexpectedExits: readonly UnexpectedExit[];
  readonly outbox: { rows: number; unpublished: number; retried: number };
  readonly analysis: Analysis;
}

const MAX_LISTED = 20;

/** The summary table printed at the end of every run (and the figures of docs/reliability.md). */
export function summaryLines(facts: RunFacts): string[] {
  const { options: o, analysis: a } = facts;
  const w = facts.writers;
  const sum = (f: (s: WriterStats) => number): number => w.reduce((n, s) => n + f(s), 0);
  const crashes = facts.unexpectedExits.filter(isCrash).length;
  const restarts = facts.unexpectedExits.filter((e) => e.wasRunning && !isCrash(e)).length;
  const rows: Array<[string, string]> = [
    ['command', facts.command],
    ['time', Object.entries(facts.phasesMs).map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(1)} s`).join(', ')],
    ['load', `${o.resourcesPerModel * 2} resources (2 models x ${o.resourcesPerModel}), ${o.writers} writers x ${o.writesPerSecond}/s, ${o.relays} relays (batch ${o.batchSize}, idle-in-transaction timeout ${o.idleInTransactionTimeoutMs} ms, delivery timeout ${o.deliveryTimeoutMs} ms), ${o.sinks} sinks`],
    ['writes', `${sum((s) => s.committed)} committed (${rate(sum((s) => s.committed), facts.phasesMs['faults'])}/s over the fault window); ${sum((s) => s.failedBeforeCommit)} failed before COMMIT (retried); ambiguous COMMITs: ${sum((s) => s.ambiguousLanded)} had landed, ${sum((s) => s.ambiguousNotLanded)} had not (retried)`],
    ['faults', faultCounts(facts.faults)],
    ['recovery', recovery(facts.faults)],
    ['relay starts', `${facts.relayStarts} (${o.relays} initial); unexpected exits: ${facts.unexpectedExits.length - crashes - restarts} failed starts, ${crashes} while running, ${restarts} watchdog restarts (exit 75)`],
    ['outbox rows', `${facts.outbox.rows}; unpublished ${facts.outbox.unpublished}; with attempts > 0: ${facts.outbox.retried}`],
    ['messages', `${a.messages} in Kafka`],
    ['lost', `${a.lostRows} rows without a message (${a.lostKeys.length} keys); final version missing for ${a.finalMissing.length} keys; last message older than the final version for ${a.lastNotFinal.length} keys`],
    ['duplicates', `${a.duplicates} (${(a.rows === 0 ? 0 : (100 * a.duplicates) / a.rows).toFixed(2)} % of rows)${byCause(a.duplicatesByCause, 'surfaced after ')}`],
    ['order violations', `${a.orderViolations.length}${byCause(a.violationsByCause, 'stale state read after ')}${byCause(a.violationsByMechanism)}; sent by two different relays: ${a.orderViolations.length - a.violationsSameRelay}, by one relay: ${a.violationsSameRelay}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return [`== fault suite summary (scale ${o.scale}, seed ${o.seed})`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];
}

function rate(count: number, ms: number | undefined): string {
  return ms === undefined || ms === 0 ? '?' : (count / (ms / 1000)).toFixed(0);
}

function faultCounts(faults: readonly FaultRecord[]): string {
  return FAULT_TYPES.map((type: FaultType) => {
    const of = faults.filter((f) => f.type === type);
    const mid = of.filter((f) => f.midBatch === true).length;
    return `${type} ${of.length}${type.startsWith('relay') || type === 'sink-kill' ? ` (${mid} mid-batch)` : ''}`;
  }).join(', ');
}

/** Per fault type: the longest time from the fault's end until the backlog from before it was published. */
function recovery(faults: readonly FaultRecord[]): string {
  if (faults.length === 0) return '-';
  return FAULT_TYPES.flatMap((type: FaultType) => {
    const of = faults.filter((f) => f.type === type);
    if (of.length === 0) return [];
    const missed = of.filter((f) => f.caughtUpMs === undefined).length;
    const worst = Math.max(...of.map((f) => f.caughtUpMs ?? 0));
    return [`${type} max ${(worst / 1000).toFixed(1)} s${missed > 0 ? ` (${missed} never caught up)` : ''}`];
  }).join(', ') + ' (fault end to backlog published)';
}

function byCause(counts: Map<string, number>, label = ''): string {
  if (counts.size === 0) return '';
  return ` [${label}${[...counts].sort((x, y) => y[1] - x[1]).map(([cause, n]) => `${cause}: ${n}`).join(', ')}]`;
}

/** Evidence for each order violation: both messages, where they sit and who read them when. */
export function violationLines(violations: readonly OrderViolation[]): string[] {
  if (violations.length === 0) return [];
  const worstVersions = Math.max(...violations.map((v) => v.newer.version - v.stale.version));
  const worstReadGap = Math.max(...violations.map((v) => v.newer.loadedAtMs - v.stale.loadedAtMs));
  const lines = [
    `== order violations (${violations.length}; first ${Math.min(MAX_LISTED, violations.length)})`,
    `  worst: ${worstVersions} versions back; stale state read up to ${(worstReadGap / 1000).toFixed(1)} s before the newer one`,
    '  read = the serializer ran (clock_timestamp()) on that relay\'s connection; produced = Kafka CreateTime (handed to librdkafka)',
  ];
  for (const v of violations.slice(0, MAX_LISTED)) {
    lines.push(`  ${v.topic} ${v.key} (after: ${v.cause}; ${v.mechanism})`);
    lines.push(`    newer  ${describe(v.newer)}`);
    lines.push(`    stale  ${describe(v.stale)}`);
  }
  return lines;
}

function describe(m: ReadMessage): string {
  return `v${m.version} at p${m.partition}@${m.offset}, read ${iso(m.loadedAtMs)} by ${m.loadedBy}, produced ${iso(m.timestampMs)}`;
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 23) : '?';
}

export function lostLines(a: Analysis): string[] {
  const lines: string[] = [];
  if (a.lostKeys.length > 0) {
    lines.push(`== keys with rows not covered by a message (first ${Math.min(MAX_LISTED, a.lostKeys.length)})`);
    for (const k of a.lostKeys.slice(0, MAX_LISTED)) lines.push(`  ${k.key}: ${k.unmatchedRows} rows unmatched; committed up to v${k.committedMax}, Kafka up to v${k.kafkaMax ?? '-'}`);
  }
  if (a.finalMissing.length > 0) {
    lines.push(`== keys whose final version is not in Kafka (first ${Math.min(MAX_LISTED, a.finalMissing.length)})`);
    for (const k of a.finalMissing.slice(0, MAX_LISTED)) lines.push(`  ${k.key}: final v${k.committedMax}, Kafka up to v${k.kafkaMax ?? '-'}`);
  }
  return lines;
}

export function exitLines(exits: readonly UnexpectedExit[]): string[] {
  const crashes = exits.filter((e) => e.wasRunning);
  if (crashes.length === 0) return [];
  const lines = [`== relays that exited on their own while running (${crashes.length}, watchdog restarts with exit 75 included)`];
  for (const e of crashes.slice(0, 5)) {
    lines.push(`  relay-${e.relay} at ${new Date(e.atMs).toISOString()}: code ${e.code} signal ${e.signal}; last lines:`);
    for (const l of e.lastLines.slice(-8)) lines.push(`    ${l.slice(0, 400)}`);
  }
  return lines;
}

/** The checks, then the closing `N passed, N failed` line (last element). */
export function checkLines(checks: readonly Check[]): string[] {
  const passed = checks.filter((c) => c.passed).length;
  return [
    '== checks',
    ...checks.map((c) => `  ${c.passed ? 'ok  ' : 'FAIL'}  ${c.name}${c.detail === '' ? '' : ` (${c.detail})`}`),
    `${passed} passed, ${checks.length - passed} failed`,
  ];
}
