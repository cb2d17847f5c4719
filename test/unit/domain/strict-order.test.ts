import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClaimedRow } from '../../../src/domain/outbox-row';
import { keyHeads, strictKey } from '../../../src/domain/strict-order';

const row = (id: string, resourceId: string, partitionKey: string | null): ClaimedRow => ({
  id,
  resourceClass: 'User',
  resourceId,
  eventName: 'user_updated',
  topic: 't',
  partitionKey,
  attempts: 0,
  createdAtMs: 0,
  changeset: null,
});

test('the key is the partition key, else the resource', () => {
  assert.equal(strictKey(row('1', '5', 'acct-9')), 'acct-9');
  assert.equal(strictKey(row('1', '5', null)), 'User:5');
  assert.equal(strictKey(row('1', '5', '')), 'User:5');
});

test('within a batch, only the oldest row of each key is published', () => {
  const rows = [row('1', '1', null), row('2', '2', 'k'), row('3', '1', null), row('4', '3', 'k'), row('5', '4', null)];
  assert.deepEqual(keyHeads(rows, rows).map((r) => r.id), ['1', '2', '5']);
});

test("an older row of the key that is not the batch's own (in flight elsewhere, or failed) holds the key back", () => {
  const claimed = [row('11', '1', 'k'), row('12', '2', 'j'), row('13', '3', null)];
  // Row 9 of key k was claimed by another batch (or failed, waiting for its retry): it comes first.
  const pending = [row('9', '7', 'k'), ...claimed];
  assert.deepEqual(keyHeads(claimed, pending).map((r) => r.id), ['12', '13']);
});

test('keys are the resource when partition_key is null or empty, so other resources are not held back', () => {
  const claimed = [row('11', '1', ''), row('12', '2', null)];
  const pending = [row('9', '1', null), ...claimed];
  assert.deepEqual(keyHeads(claimed, pending).map((r) => r.id), ['12']);
});

test('a claimed row missing from the pending list is not published now', () => {
  const claimed = [row('11', '1', 'k'), row('12', '2', 'j')];
  assert.deepEqual(keyHeads(claimed, [claimed[1] as ClaimedRow]).map((r) => r.id), ['12']);
});
