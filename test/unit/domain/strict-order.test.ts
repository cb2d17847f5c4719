import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ClaimedRow } from '../../../src/domain/outbox-row';
import { oldestPerKey, strictKey } from '../../../src/domain/strict-order';

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

test('only the oldest row of each key is kept, in claim order', () => {
  const rows = [row('1', '1', null), row('2', '2', 'k'), row('3', '1', null), row('4', '3', 'k'), row('5', '4', null)];
  assert.deepEqual(oldestPerKey(rows).map((r) => r.id), ['1', '2', '5']);
});
