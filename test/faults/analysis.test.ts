import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyze, extraMessages, isFrozenQueueException, unmatchedRows, type CommittedRow, type FaultWindow } from './analysis';
import type { ReadMessage } from './kafka-reader';

// The fault suite's checks are only as good as their arithmetic: these pin it down on small cases.

const T = 'ns_items';

function row(id: number, version: number): CommittedRow {
  return { topic: T, key: `Item:${id}`, version };
}

let offset = 0;
function msg(id: number, version: number, loadedAtMs: number, extra: Partial<ReadMessage> = {}): ReadMessage {
  offset += 1;
  return { topic: T, partition: 0, offset, key: `Item:${id}`, event: 'item_updated', version, loadedAtMs, loadedBy: 'relay-1', timestampMs: loadedAtMs + 1, ...extra };
}

test('unmatchedRows: the best matching of rows to messages of a version at least theirs', () => {
  assert.equal(unmatchedRows([1, 2, 3], [1, 2, 3]), 0);
  assert.equal(unmatchedRows([1, 2, 3], [3, 3, 3]), 0, 'newer states cover older rows');
  assert.equal(unmatchedRows([1, 2, 3], [3, 3]), 1, 'one message short');
  assert.equal(unmatchedRows([1, 2, 3], [1, 1, 1, 1]), 2, 'old states do not cover newer rows, however many');
  assert.equal(unmatchedRows([5], []), 1);
  assert.equal(unmatchedRows([], [1, 2]), 0);
});

test('extraMessages: in read order, each message publishes the oldest pending row it covers', () => {
  const extra = extraMessages([1, 2], [msg(1, 1, 10), msg(1, 1, 20), msg(1, 2, 30)]);
  assert.deepEqual(extra.map((m) => m.loadedAtMs), [20], 'the second v1 read covers no pending row: it is the extra');
  assert.deepEqual(extraMessages([1, 2], [msg(1, 2, 10), msg(1, 2, 20)]), []);
});

test('analyze: lost rows, final versions, duplicates and order violations', () => {
  const rows = [row(1, 1), row(1, 2), row(1, 3), row(2, 1), row(2, 2), row(3, 1)];
  const faults: FaultWindow[] = [{ type: 'relay-kill', startMs: 10_000, endMs: 10_100 }];
  const messages = [
    msg(1, 1, 10),
    msg(1, 3, 50),
    msg(1, 2, 40, { loadedBy: 'relay-2', timestampMs: 60 }), // read before v3 but produced after it: load race
    msg(1, 3, 12_000), // a duplicate, surfacing after the fault
    msg(2, 1, 10), // Item:2 never gets v2: lost
  ];
  const a = analyze(rows, messages, faults);
  assert.equal(a.rows, 6);
  assert.equal(a.messages, 5);
  assert.equal(a.lostRows, 2, 'Item:2 v2 and Item:3 v1 have no message');
  assert.deepEqual(a.finalMissing.map((k) => k.key).sort(), ['Item:2', 'Item:3']);
  assert.deepEqual(a.lastNotFinal.map((k) => k.key), ['Item:2'], 'Item:1 ends on v3; Item:3 has no message at all');
  assert.equal(a.duplicates, 1);
  assert.deepEqual([...a.duplicatesByCause], [['relay-kill', 1]]);
  assert.equal(a.orderViolations.length, 1);
  const v = a.orderViolations[0];
  assert.equal(v?.stale.version, 2);
  assert.equal(v?.newer.version, 3);
  assert.equal(v?.mechanism, 'load-race');
  assert.equal(v?.cause, 'before any fault');
  assert.equal(a.violationsSameRelay, 0);
});

test('analyze: a message held in a producer queue, and keys split across partitions', () => {
  const rows = [row(1, 1), row(1, 2)];
  const messages = [msg(1, 2, 9_000, { timestampMs: 9_010 }), msg(1, 1, 7_000, { timestampMs: 7_005, partition: 0 }), msg(1, 2, 9_500, { partition: 1 })];
  const a = analyze(rows, messages, [{ type: 'kafka-stop', startMs: 8_000, endMs: 20_000 }]);
  assert.equal(a.orderViolations[0]?.mechanism, 'delivery-race');
  assert.deepEqual(a.lastNotFinal, [], 'the last offset of partition 1 holds v2');
  assert.equal(a.orderViolations[0]?.cause, 'kafka-stop', 'read less than 2 s before the fault started');
  assert.deepEqual(a.splitKeys, [`${T} Item:1`]);
  assert.equal(a.unknownKeys.length, 0);
  assert.deepEqual(analyze([], [msg(9, 1, 1)], []).unknownKeys, [`${T} Item:9`]);
});

test('isFrozenQueueException: only a delivery-race of a message the frozen relay queued before its freeze', () => {
  const freeze: FaultWindow = { type: 'relay-freeze', startMs: 1000, endMs: 9000, target: 'relay-2' };
  const newer = msg(7, 5, 2000, { loadedBy: 'relay-1', timestampMs: 2001 });
  const queued = msg(7, 4, 900, { loadedBy: 'relay-2', timestampMs: 950 });
  const base = { topic: T, key: 'Item:7', newer, cause: 'relay-freeze' };
  assert.equal(isFrozenQueueException({ ...base, stale: queued, mechanism: 'delivery-race' }, [freeze]), true);
  assert.equal(isFrozenQueueException({ ...base, stale: queued, mechanism: 'load-race' }, [freeze]), false, 'a load-race is never excused');
  const otherRelay = { ...queued, loadedBy: 'relay-3' };
  assert.equal(isFrozenQueueException({ ...base, stale: otherRelay, mechanism: 'delivery-race' }, [freeze]), false, 'only the frozen relay');
  const afterThaw = { ...queued, timestampMs: 9500 };
  assert.equal(isFrozenQueueException({ ...base, stale: afterThaw, mechanism: 'delivery-race' }, [freeze]), false, 'queued after the thaw');
  assert.equal(isFrozenQueueException({ ...base, stale: queued, mechanism: 'delivery-race' }, [{ ...freeze, type: 'kafka-stop' }]), false, 'only freezes');
});
