import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { choosePartition } from '../../../src/domain/partitioner';
import { decideRecord, genesisMessages, type RecordRules } from '../../../src/genesis/genesis-messages';
import { parseTopicsYaml } from '../../../src/config/topics-file';
import { resolveTarget } from '../../../src/genesis/genesis-target';
import { RelayError } from '../../../src/errors';

const rules: RecordRules = {
  modelName: 'User',
  fromMs: null,
  toMs: null,
  visibleOnly: false,
  softDeleteColumn: 'canceled_at',
  windowInQuery: false,
  relation: 'users',
};

describe('decideRecord', () => {
  test('a soft-deleted record is _destroyed, or skipped with --visible-only', () => {
    assert.deepEqual(decideRecord({ id: 1, canceled_at: null }, rules), { kind: 'send', action: 'updated' });
    assert.deepEqual(decideRecord({ id: 1, canceled_at: '2024-03-01T00:00:00.000Z' }, rules), { kind: 'send', action: 'destroyed' });
    assert.deepEqual(decideRecord({ id: 1, canceled_at: '2024-03-01T00:00:00.000Z' }, { ...rules, visibleOnly: true }), {
      kind: 'skip',
      reason: 'soft-deleted',
    });
    assert.deepEqual(decideRecord({ id: 1 }, { ...rules, visibleOnly: true }), { kind: 'send', action: 'updated' }, 'not soft-deletable');
    assert.deepEqual(decideRecord({ id: 1, deleted_at: 'x', canceled_at: null }, { ...rules, softDeleteColumn: 'deleted_at' }), {
      kind: 'send',
      action: 'destroyed',
    });
  });

  test('the updated_at window is inclusive at both ends', () => {
    const window = { ...rules, fromMs: Date.parse('2024-02-01T01:00:00Z'), toMs: Date.parse('2024-02-01T02:00:00Z') };
    const at = (updated_at: string): string => decideRecord({ id: 1, updated_at }, window).kind;
    assert.equal(at('2024-02-01T00:59:59.999Z'), 'skip');
    assert.equal(at('2024-02-01T01:00:00.000Z'), 'send');
    assert.equal(at('2024-02-01T02:00:00.000Z'), 'send');
    assert.equal(at('2024-02-01T02:00:00.001Z'), 'skip');
  });

  test('a window without any updated_at to check is a configuration error, unless the id query applied it', () => {
    const window = { ...rules, fromMs: 0 };
    assert.throws(() => decideRecord({ id: 1 }, window), (err: unknown) => err instanceof RelayError && err.code === 'CONFIG_INVALID');
    assert.deepEqual(decideRecord({ id: 1 }, { ...window, windowInQuery: true }), { kind: 'send', action: 'updated' });
  });
});

describe('genesisMessages', () => {
  const topics = parseTopicsYaml(
    `namespace: ns
topics:
  users:
    genesis_replica: true
    models:
      User: { view: users }
`,
    'topics.yaml',
  );

  test('as the relay would send an outbox row: key, partition from the record, envelope; both topics of a pair', () => {
    const target = resolveTarget(topics, 'users', 'User');
    const messages = genesisMessages({
      modelName: 'User',
      resourceId: '7',
      record: { id: 7n, account_id: 3n, canceled_at: null, links: {} },
      action: 'updated',
      topicName: target.topicName,
      genesisReplica: target.genesisReplica,
      partitionKeyAttribute: target.model.partitionKey,
      idType: 'integer',
      partitionCount: () => 4,
    });
    assert.deepEqual(messages.map((m) => m.topic), ['ns_users', 'ns_users_genesis']);
    for (const m of messages) {
      assert.equal(m.key, 'User:7');
      assert.equal(m.partition, choosePartition('3', 'User:7', 4));
      assert.equal(m.value?.toString('utf8'), '{"message":[{"event":"user_updated","model_name":"User","data":[{"id":7,"account_id":3,"canceled_at":null,"links":{}}]}]}');
    }
  });

  test('the _genesis name alone sends only there', () => {
    const target = resolveTarget(topics, 'ns_users_genesis', 'User');
    assert.deepEqual(target.topicNames, ['ns_users_genesis']);
    const messages = genesisMessages({
      modelName: 'Admin::User',
      resourceId: '5',
      record: { id: 5, links: {} },
      action: 'destroyed',
      topicName: target.topicName,
      genesisReplica: target.genesisReplica,
      partitionKeyAttribute: 'account_id',
      idType: undefined,
      partitionCount: () => 1,
    });
    assert.deepEqual(messages.map((m) => m.topic), ['ns_users_genesis']);
    assert.match(messages[0]?.value?.toString('utf8') ?? '', /"event":"admin_user_destroyed"/);
  });
});
