import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PruneOp, RecordOp } from '../../../src/sink/apply-plan';
import { rowKey } from '../../../src/sink/apply-plan';
import { planSegments, type StatementGroup } from '../../../src/sink/apply-steps';
import { applySegments, type ApplyStatements } from '../../../src/sink/batch-applier';
import { RelayError } from '../../../src/errors';
import { newJsonObject, type JsonValue } from '../../../src/sink/json-value';
import { SYNCED, target } from './targets';

const users = target('User', 'users', SYNCED);
const fees = target('fees', 'fees', [...SYNCED, 'synced_user_id']);
let seq = 0;

function op(message: number, id: number, extra: Partial<RecordOp> = {}): RecordOp {
  const t = extra.target ?? users;
  return { seq: seq++, message, target: t, rowKey: rowKey(t.table, id), syncedId: id, kind: 'upsert', values: new Map<string, JsonValue>([['synced_id', id]]), attributes: newJsonObject(), exactNumbers: true, cancelNow: false, incomingTime: null, parent: undefined, ...extra };
}

/** Statements that refuse what `refuse` says and record what ran. */
function statements(refuse: Map<string, 'stale' | 'lost'>): ApplyStatements & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    apply: async (group: StatementGroup) => {
      log.push(`${group.kind} ${group.ops.map((o) => o.rowKey.replace('\u0000', ':')).join(' ')}`);
      return new Map(group.ops.flatMap((o) => (refuse.has(o.rowKey) ? [[o, refuse.get(o.rowKey) as 'stale' | 'lost']] : [])));
    },
    prune: async (prunes: readonly PruneOp[], writes: readonly RecordOp[]) => {
      log.push(`prune ${prunes.map((p) => String(p.parent.syncedId)).join(' ')} writes ${writes.map((w) => String(w.syncedId)).join(' ')}`);
      return prunes.length;
    },
  };
}

test('sideloads and prunes of a record the guard refused are skipped; the others are counted per table', async () => {
  const stalePaent = op(0, 1);
  const freshParent = op(1, 2);
  const childOfStale = op(0, 10, { target: fees, parent: stalePaent });
  const childOfFresh = op(1, 20, { target: fees, parent: freshParent });
  const prunes: PruneOp[] = [
    { seq: seq++, message: 0, parent: stalePaent, target: fees, foreignKey: 'synced_user_id', mode: 'delete', keep: [10] },
    { seq: seq++, message: 1, parent: freshParent, target: fees, foreignKey: 'synced_user_id', mode: 'delete', keep: [20] },
  ];
  const s = statements(new Map([[stalePaent.rowKey, 'stale' as const]]));
  const tally = await applySegments(planSegments([stalePaent, freshParent, childOfStale, childOfFresh], prunes), s);
  assert.deepEqual(s.log, ['upsert users:1 users:2', 'upsert fees:20', 'prune 2 writes 20']);
  assert.deepEqual([...tally.applied], [['users', 1], ['fees', 1]]);
  assert.deepEqual([...tally.stale], [['users', 1]]);
  assert.equal(tally.pruned, 1);
});

test('a row lost to a concurrent writer fails the batch as retriable', async () => {
  const a = op(0, 1);
  await assert.rejects(
    applySegments(planSegments([a], []), statements(new Map([[a.rowKey, 'lost' as const]]))),
    (err: unknown) => err instanceof RelayError && err.code === 'SINK_APPLY_CONFLICT' && err.retriable,
  );
});
