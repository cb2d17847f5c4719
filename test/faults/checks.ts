import { writeFileSync } from 'node:fs';
import { isFrozenQueueException, type Analysis, type FaultWindow } from './analysis';
import type { FaultType } from './options';
import { isCrash } from './relays';
import type { Check, RunFacts } from './report';
import type { CommittedWrite } from './writers';

/** What the run itself observed, beside the analysis of the data. */
export interface RunOutcome {
  readonly faultTypes: readonly FaultType[];
  readonly writerMismatch: readonly string[];
  /** Exit of each relay's SIGTERM at the end (code, or signal name). */
  readonly finalExits: ReadonlyArray<{ name: string; code: number | string | null }>;
  readonly healthy: boolean;
}

/** The checks of a run; any failed one fails the suite. */
export function evaluate(facts: RunFacts, run: RunOutcome): Check[] {
  const a: Analysis = facts.analysis;
  const missingTypes = run.faultTypes.filter((t) => !facts.faults.some((f) => f.type === t));
  const crashes = facts.unexpectedExits.filter(isCrash);
  const badExits = run.finalExits.filter((e) => e.code !== 0);
  return [
    { name: 'every requested fault type was injected', passed: missingTypes.length === 0, detail: missingTypes.length === 0 ? `${facts.faults.length} faults` : `missing: ${missingTypes.join(', ')}` },
    { name: 'the relays caught up after every fault', passed: facts.faults.every((f) => f.caughtUpMs !== undefined), detail: `${facts.faults.filter((f) => f.caughtUpMs === undefined).length} faults not caught up within 120 s` },
    { name: "the writers' records match the database", passed: run.writerMismatch.length === 0, detail: run.writerMismatch.slice(0, 3).join('; ') },
    { name: 'every outbox row is published', passed: facts.outbox.unpublished === 0, detail: `${facts.outbox.unpublished} unpublished` },
    { name: 'no row lost (each row has a message of its resource with a version >= its own)', passed: a.lostRows === 0, detail: `${a.lostRows} rows unmatched` },
    { name: 'the final version of every resource is in Kafka', passed: a.finalMissing.length === 0, detail: `${a.finalMissing.length} resources behind` },
    { name: 'the last message of every resource carries its final version (what compaction keeps)', passed: a.lastNotFinal.length === 0, detail: `${a.lastNotFinal.length} resources` },
    orderCheck(a, facts.faults),
    { name: 'every key stays on one partition', passed: a.splitKeys.length === 0, detail: a.splitKeys.slice(0, 3).join(', ') },
    { name: 'no message for a resource that was never written', passed: a.unknownKeys.length === 0, detail: a.unknownKeys.slice(0, 3).join(', ') },
    { name: 'no relay exited on its own while running (watchdog restarts, exit 75, are counted apart)', passed: crashes.length === 0, detail: `${crashes.length} exits, ${facts.unexpectedExits.filter((e) => e.wasRunning && !isCrash(e)).length} watchdog restarts` },
    { name: 'every relay exits 0 on SIGTERM after the run', passed: badExits.length === 0, detail: badExits.map((e) => `${e.name}: ${e.code}`).join(', ') },
    { name: 'PostgreSQL and Kafka are up and healthy at the end', passed: run.healthy, detail: '' },
  ];
}

/**
 * Snapshot order: no violation at all. Violations that look like a message queued in librdkafka by
 * a relay just before it was frozen past the idle timeout (the case the frozen-relay guard exists
 * for) are counted apart in the detail, to tell a guard failure from any other.
 */
function orderCheck(a: Analysis, faults: readonly FaultWindow[]): Check {
  const queuedBeforeFreeze = a.orderViolations.filter((v) => isFrozenQueueException(v, faults)).length;
  return {
    name: 'per key, versions in Kafka never go back (snapshot topic and strict topic)',
    passed: a.orderViolations.length === 0,
    detail: `${a.orderViolations.length} violations, of which ${queuedBeforeFreeze} by a message queued just before a freeze`,
  };
}

export function compareWriters(writes: ReadonlyArray<readonly CommittedWrite[]>, logged: ReadonlyArray<{ token: string; version: number }>): string[] {
  const inDb = new Map(logged.map((r) => [r.token, r.version]));
  const problems: string[] = [];
  let recorded = 0;
  for (const list of writes) {
    for (const write of list) {
      recorded += 1;
      const version = inDb.get(write.token);
      if (version === undefined) problems.push(`write ${write.token} recorded as committed is not in write_log`);
      else if (version !== write.version) problems.push(`write ${write.token}: version ${write.version} recorded, ${version} in write_log`);
    }
  }
  if (recorded !== inDb.size) problems.push(`${recorded} writes recorded by the writers, ${inDb.size} in write_log`);
  return problems;
}

export function writeJson(file: string, facts: RunFacts, checks: readonly Check[]): void {
  const a = facts.analysis;
  const out = {
    ...facts,
    analysis: {
      ...a,
      duplicatesByCause: Object.fromEntries(a.duplicatesByCause),
      violationsByCause: Object.fromEntries(a.violationsByCause),
      violationsByMechanism: Object.fromEntries(a.violationsByMechanism),
      orderViolations: a.orderViolations.slice(0, 200),
    },
    checks,
  };
  writeFileSync(file, JSON.stringify(out, null, 2));
}
