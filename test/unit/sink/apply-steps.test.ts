import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PruneOp, RecordOp } from '../../../src/sink/apply-plan';
import { rowKey } from '../../../src/sink/apply-plan';
import { groupStatements, planSegments } from '../../../src/sink/apply-steps';
import { newJsonObject, type JsonValue } from '../../../src/sink/json-value';
import { SYNCED, target } from './targets';

const users = target('User', 'users', SYNCED);
const fees = target('fees', 'fees', SYNCED);
let seq = 0;

function op(message: number, id: JsonValue, extra: Partial<RecordOp> = {}): RecordOp {
  const t = extra.target ?? users;
  return {
    seq: seq++,
    message,
    target: t,
    rowKey: rowKey(t.table, id),
    syncedId: id,
    kind: 'upsert',
    values: new Map<string, JsonValue>([
      ['synced_id', id],
      ['name', 'x'],
    ]),
    attributes: newJsonObject(), exactNumbers: true,
    cancelNow: false,
    incomingTime: null,
    parent: undefined,
    ...extra,
  };
}

const describe = (segments: ReturnType<typeof planSegments>): string[][][] =>
  segments.map((s) => s.steps.map((step) => step.ops.map((o) => `${o.target.table}:${String(o.syncedId)}`)));

test('messages touching different rows share one segment; a repeated row starts the next one', () => {
  const ops = [op(0, 1), op(1, 2), op(2, 3), op(3, 2), op(4, 4)];
  assert.deepEqual(describe(planSegments(ops, [])), [[['users:1', 'users:2', 'users:3']], [['users:2', 'users:4']]]);
});

test('sideloads run a step after their parent; a row met twice in one message gets a later step', () => {
  const parent = op(0, 1);
  const a = op(0, 10, { target: fees, parent });
  const b = op(0, 11, { target: fees, parent });
  const again = op(0, 10, { target: fees, parent });
  const other = op(1, 2);
  assert.deepEqual(describe(planSegments([parent, a, b, again, other], [])), [[['users:1', 'users:2'], ['fees:10', 'fees:11'], ['fees:10']]]);
});

test('UUIDs are one row whatever their case', () => {
  const ops = [op(0, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'), op(1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')];
  assert.equal(planSegments(ops, []).length, 2);
});

test('prunes stay with their segment, which also lists the upserts a prune must not undo', () => {
  const parent = op(0, 1);
  const child = op(0, 10, { target: fees, parent });
  const prune: PruneOp = { seq: seq++, message: 0, parent, target: fees, foreignKey: 'synced_user_id', mode: 'delete', keep: [10] };
  const later = op(1, 12, { target: fees });
  const [segment] = planSegments([parent, child, later], [prune]);
  assert.deepEqual(segment?.prunes, [prune]);
  assert.deepEqual(segment?.writes.map((w) => w.syncedId), [1, 10, 12]);
});

test('one statement per table, kind, cancel flag and column set', () => {
  const plain = op(0, 1);
  const same = op(1, 2);
  const fewer = op(2, 3, { values: new Map<string, JsonValue>([['synced_id', 3]]) });
  const cancel = op(3, 4, { cancelNow: true });
  const del = op(4, 5, { kind: 'delete', values: new Map() });
  const del2 = op(5, 6, { kind: 'delete', values: new Map() });
  const groups = groupStatements([plain, same, fewer, cancel, del, del2, op(6, 7, { target: fees })]);
  assert.deepEqual(
    groups.map((g) => [g.kind, g.cancelNow, g.columns.join(','), g.ops.map((o) => o.syncedId)]),
    [
      ['upsert', false, 'name,synced_id', [1, 2]],
      ['upsert', false, 'synced_id', [3]],
      ['upsert', true, 'name,synced_id', [4]],
      ['delete', false, '', [5, 6]],
      ['upsert', false, 'name,synced_id', [7]],
    ],
  );
});
