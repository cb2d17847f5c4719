import { RelayError } from '../errors';
import type { PruneOp, RecordOp } from './apply-plan';
import { groupPrunes, groupStatements, type Segment, type StatementGroup } from './apply-steps';

/**
 * Runs prepared segments inside one open transaction, step by step: each step's operations whose
 * parent was applied, grouped into one statement per table and column set; then the segment's
 * prunes. A record the guard refused makes its sideloads skip (the gem skips the whole record).
 */

/** The statements of one open transaction (postgres/sink-store.ts). */
export interface ApplyStatements {
  /** Applies a group; returns the operations it did NOT apply: stale (guard) or lost (concurrent writer). */
  apply(group: StatementGroup): Promise<ReadonlyMap<RecordOp, 'stale' | 'lost'>>;
  /** Prunes for one table, foreign key and mode; `writes`: the segment's upserts. Returns rows removed or cancelled. */
  prune(prunes: readonly PruneOp[], writes: readonly RecordOp[]): Promise<number>;
}

/** Records applied and refused by the guard, per table, and records pruned. */
export interface ApplyTally {
  readonly applied: Map<string, number>;
  readonly stale: Map<string, number>;
  pruned: number;
}

export function emptyTally(): ApplyTally {
  return { applied: new Map(), stale: new Map(), pruned: 0 };
}

export function addTally(into: ApplyTally, from: ApplyTally): void {
  for (const [table, n] of from.applied) into.applied.set(table, (into.applied.get(table) ?? 0) + n);
  for (const [table, n] of from.stale) into.stale.set(table, (into.stale.get(table) ?? 0) + n);
  into.pruned += from.pruned;
}

export async function applySegments(segments: readonly Segment[], statements: ApplyStatements): Promise<ApplyTally> {
  const tally = emptyTally();
  const applied = new Set<RecordOp>();
  const count = (map: Map<string, number>, table: string): void => void map.set(table, (map.get(table) ?? 0) + 1);
  for (const segment of segments) {
    for (const step of segment.steps) {
      const runnable = step.ops.filter((op) => op.parent === undefined || applied.has(op.parent));
      for (const group of groupStatements(runnable)) {
        const refused = await statements.apply(group);
        for (const op of group.ops) {
          const status = refused.get(op);
          if (status === 'lost') {
            throw new RelayError('SINK_APPLY_CONFLICT', `another transaction wrote ${op.target.table} row ${String(op.rowKey.split('\u0000')[1])} meanwhile`, {
              retriable: true,
              context: { table: op.target.table },
            });
          }
          if (status === 'stale') count(tally.stale, op.target.table);
          else {
            applied.add(op);
            count(tally.applied, op.target.table);
          }
        }
      }
    }
    const prunes = segment.prunes.filter((p) => applied.has(p.parent));
    for (const group of groupPrunes(prunes)) {
      const table = group[0]?.target.table;
      tally.pruned += await statements.prune(group, segment.writes.filter((op) => op.target.table === table && applied.has(op)));
    }
  }
  return tally;
}
