import type { PruneOp, RecordOp } from './apply-plan';
import type { ApplyTarget } from './apply-target';

/**
 * Ordering a batch's operations into set-based steps whose result is the gem's one-by-one result.
 *
 * The batch is cut into segments: consecutive messages that touch no row in common. Within a
 * segment the order between two messages cannot matter, so all their operations at one depth
 * run as one statement per table (step 0: the records of the events, step 1: their sideloads,
 * which run only where their parent was applied, ...). A message touching a row that an earlier
 * message of the segment touched starts the next segment, so every row sees its operations in
 * message order. Within one message, a row met twice gets a later step the second time.
 *
 * Prunes run at the end of their segment, after every record of it; a record that the segment
 * writes to the pruned table after the prune (in message order) is kept: written after the prune,
 * it would exist at the end either way. `writes` lists them for the statement (see sink-sql).
 */
export interface Step {
  readonly ops: readonly RecordOp[];
}

export interface Segment {
  readonly steps: readonly Step[];
  readonly prunes: readonly PruneOp[];
  /** Every upsert of the segment, in message order (what a prune must not undo). */
  readonly writes: readonly RecordOp[];
}

export function planSegments(ops: readonly RecordOp[], prunes: readonly PruneOp[]): Segment[] {
  const byMessage = groupByMessage(ops, prunes);
  const segments: Segment[] = [];
  let current: { ops: RecordOp[]; prunes: PruneOp[]; rows: Set<string> } | undefined;
  for (const message of byMessage) {
    const rows = new Set(message.ops.map((op) => op.rowKey));
    if (current !== undefined && [...rows].some((r) => current?.rows.has(r))) {
      segments.push(finish(current));
      current = undefined;
    }
    current ??= { ops: [], prunes: [], rows: new Set() };
    current.ops.push(...message.ops);
    current.prunes.push(...message.prunes);
    for (const r of rows) current.rows.add(r);
  }
  if (current !== undefined) segments.push(finish(current));
  return segments;
}

function groupByMessage(ops: readonly RecordOp[], prunes: readonly PruneOp[]): Array<{ ops: RecordOp[]; prunes: PruneOp[] }> {
  const messages = new Map<number, { ops: RecordOp[]; prunes: PruneOp[] }>();
  const entry = (m: number): { ops: RecordOp[]; prunes: PruneOp[] } => {
    let e = messages.get(m);
    if (e === undefined) {
      e = { ops: [], prunes: [] };
      messages.set(m, e);
    }
    return e;
  };
  for (const op of ops) entry(op.message).ops.push(op);
  for (const prune of prunes) entry(prune.message).prunes.push(prune);
  return [...messages.entries()].sort(([a], [b]) => a - b).map(([, e]) => e);
}

function finish(segment: { ops: RecordOp[]; prunes: PruneOp[] }): Segment {
  const stepOf = new Map<RecordOp, number>();
  const lastStepOfRow = new Map<string, number>();
  const steps: RecordOp[][] = [];
  for (const op of [...segment.ops].sort((a, b) => a.seq - b.seq)) {
    let step = op.parent === undefined ? 0 : (stepOf.get(op.parent) ?? 0) + 1;
    const previous = lastStepOfRow.get(op.rowKey);
    if (previous !== undefined) step = Math.max(step, previous + 1);
    stepOf.set(op, step);
    lastStepOfRow.set(op.rowKey, step);
    (steps[step] ??= []).push(op);
  }
  const writes = segment.prunes.length === 0 ? [] : segment.ops.filter((op) => op.kind === 'upsert');
  return { steps: steps.map((s) => ({ ops: s ?? [] })), prunes: segment.prunes, writes };
}

/** Operations that one statement can apply together: same table, kind and columns. */
export interface StatementGroup {
  readonly kind: RecordOp['kind'];
  readonly ops: readonly RecordOp[];
  /** Columns set by every op of the group (upsert), sorted. */
  readonly columns: readonly string[];
  readonly cancelNow: boolean;
}

export function groupStatements(ops: readonly RecordOp[]): StatementGroup[] {
  // Grouped by target, kind and cancelNow first, then by the sequence of the record's column
  // names, compared in place: a signature string per record cost a tenth of the batch's planning.
  const byKind = new Map<ApplyTarget, Map<string, Array<{ kind: RecordOp['kind']; ops: RecordOp[]; keys: string[]; columns: string[]; cancelNow: boolean }>>>();
  const all: Array<{ kind: RecordOp['kind']; ops: RecordOp[]; columns: string[]; cancelNow: boolean }> = [];
  for (const op of ops) {
    let kinds = byKind.get(op.target);
    if (kinds === undefined) {
      kinds = new Map();
      byKind.set(op.target, kinds);
    }
    const kindKey = `${op.kind}\u0000${op.cancelNow}`;
    let candidates = kinds.get(kindKey);
    if (candidates === undefined) {
      candidates = [];
      kinds.set(kindKey, candidates);
    }
    // Records of one serializer set their columns in one order: no sort per record.
    let group = op.kind === 'delete' ? candidates[0] : candidates.find((g) => sameKeys(g.keys, op.values));
    if (group === undefined) {
      const keys = op.kind === 'delete' ? [] : [...op.values.keys()];
      group = { kind: op.kind, ops: [], keys, columns: [...keys].sort(), cancelNow: op.cancelNow };
      candidates.push(group);
      all.push(group);
    }
    group.ops.push(op);
  }
  return all.map(({ kind, ops: grouped, columns, cancelNow }) => ({ kind, ops: grouped, columns, cancelNow }));
}

function sameKeys(keys: readonly string[], values: ReadonlyMap<string, unknown>): boolean {
  if (keys.length !== values.size) return false;
  let i = 0;
  for (const key of values.keys()) if (key !== keys[i++]) return false;
  return true;
}

/** Prunes of one table, foreign key and mode: one statement. */
export function groupPrunes(prunes: readonly PruneOp[]): PruneOp[][] {
  const groups = new Map<string, PruneOp[]>();
  for (const p of prunes) {
    const signature = `${p.target.table}\u0000${p.foreignKey}\u0000${p.mode}`;
    groups.set(signature, [...(groups.get(signature) ?? []), p]);
  }
  return [...groups.values()];
}
