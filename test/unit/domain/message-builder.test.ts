import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deletedRecord, encodeEnvelope, presentPartitionKey, planRow, resolvePartitionKey, type RowContext } from '../../../src/domain/message-builder';
import type { ClaimedRow } from '../../../src/domain/outbox-row';

const row = (over: Partial<ClaimedRow> = {}): ClaimedRow => ({
  id: '1',
  resourceClass: 'User',
  resourceId: '42',
  eventName: 'user_updated',
  topic: 'v3_users',
  partitionKey: null,
  attempts: 0,
  createdAtMs: 0,
  changeset: null,
  ...over,
});

const ctx = (over: Partial<RowContext> = {}): RowContext => ({
  row: row(),
  topicName: 'v3_users',
  genesisReplica: false,
  partitionKeyAttribute: 'account_id',
  idType: undefined,
  record: { id: 42n, account_id: 7n, links: {} },
  partitionCount: () => 12,
  ...over,
});

describe('deletedRecord', () => {
  test('integer-looking ids are numbers, others strings, id_type wins', () => {
    assert.deepEqual(deletedRecord('42', undefined), { links: {}, id: 42n });
    assert.deepEqual(deletedRecord('3f2c8a1e-0000-4000-8000-000000000001', undefined), { links: {}, id: '3f2c8a1e-0000-4000-8000-000000000001' });
    assert.deepEqual(deletedRecord('42', 'string'), { links: {}, id: '42' });
  });

  test('the id is cast like Model.new(id: resource_id): zero-padded text stays text, numeric keys are BigDecimals', () => {
    assert.deepEqual(deletedRecord('007', 'string'), { links: {}, id: '007' });
    assert.deepEqual(deletedRecord('007', 'integer'), { links: {}, id: 7n });
    assert.equal(encodeEnvelope('price_destroyed', 'Price', deletedRecord('42', 'decimal')).toString(), '{"message":[{"event":"price_destroyed","model_name":"Price","data":[{"links":{},"id":"42.0"}]}]}');
  });
});

describe('presentPartitionKey (partition_key.presence)', () => {
  test('nil, empty and whitespace-only keys are blank, anything else is kept as written', () => {
    for (const blank of [null, '', ' ', '\t\n', '\u00a0', '\u3000 ', '\u2028']) assert.equal(presentPartitionKey(blank), null, JSON.stringify(blank));
    for (const kept of ['7', ' 7 ', 'abc', '\ufeff']) assert.equal(presentPartitionKey(kept), kept);
  });
});

describe('resolvePartitionKey', () => {
  test('row partition_key first, then the attribute cast like the gem, else null', () => {
    assert.equal(resolvePartitionKey('99', { account_id: 7n }, 'account_id'), '99');
    assert.equal(resolvePartitionKey('', { account_id: 7n }, 'account_id'), '7');
    assert.equal(resolvePartitionKey(null, { account_id: null }, 'account_id'), '0');
    assert.equal(resolvePartitionKey(null, { id: 1n }, 'account_id'), null);
  });
});

describe('planRow', () => {
  test('an existing record: one message with key Class:id, partition from the attribute', () => {
    const plan = planRow(ctx());
    assert.equal(plan.kind, 'send');
    if (plan.kind !== 'send') return;
    assert.equal(plan.messages.length, 1);
    const [m] = plan.messages;
    assert.equal(m?.topic, 'v3_users');
    assert.equal(m?.key, 'User:42');
    // python3: zlib.crc32(b"7") == 1790921346; % 12 == 6
    assert.equal(m?.partition, 6);
    assert.equal(
      m?.value?.toString(),
      '{"message":[{"event":"user_updated","model_name":"User","data":[{"id":42,"account_id":7,"links":{}}]}]}',
    );
  });

  test('missing record: created/updated skip, destroyed sends the id-only record', () => {
    assert.equal(planRow(ctx({ record: undefined })).kind, 'skip');
    assert.equal(planRow(ctx({ record: undefined, row: row({ eventName: 'user_created' }) })).kind, 'skip');
    const plan = planRow(ctx({ record: undefined, row: row({ eventName: 'user_destroyed', partitionKey: '7' }) }));
    assert.equal(plan.kind, 'send');
    if (plan.kind !== 'send') return;
    assert.equal(plan.messages[0]?.value?.toString(), '{"message":[{"event":"user_destroyed","model_name":"User","data":[{"links":{},"id":42}]}]}');
  });

  test('genesis replica: the same message to <topic>_genesis, partitioned with that topic\'s count', () => {
    const plan = planRow(ctx({ genesisReplica: true, partitionCount: (t) => (t.endsWith('_genesis') ? 5 : 12) }));
    assert.equal(plan.kind, 'send');
    if (plan.kind !== 'send') return;
    assert.deepEqual(plan.messages.map((m) => m.topic), ['v3_users', 'v3_users_genesis']);
    // python3: zlib.crc32(b"7") % 5 == 1
    assert.equal(plan.messages[1]?.partition, 1);
    assert.equal(plan.messages[0]?.value, plan.messages[1]?.value);
  });
});
