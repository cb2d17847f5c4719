import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../../src/cli/args';
import { tombstoneTarget } from '../../../src/cli/tombstone-target';
import { parseTopicsYaml } from '../../../src/config/topics-file';

const topics = parseTopicsYaml(
  `namespace: shop
topics:
  users:
    genesis_replica: true
    models:
      User:
        view: v_users
  orders:
    models:
      Order:
        view: v_orders
`,
  'topics.yaml',
);

test('a configured topic, by key or full name; a genesis replica gets its tombstone too', () => {
  assert.deepEqual(tombstoneTarget(topics, 'users', 'User', false), { topicName: 'shop_users', genesisReplica: true, notes: [] });
  assert.deepEqual(tombstoneTarget(topics, 'shop_orders', 'Order', false), { topicName: 'shop_orders', genesisReplica: false, notes: [] });
  assert.deepEqual(tombstoneTarget(topics, 'shop_users_genesis', 'User', false), { topicName: 'shop_users_genesis', genesisReplica: false, notes: [] });
});

test('a topic that is not in the topics YAML needs --force', () => {
  assert.throws(
    () => tombstoneTarget(topics, 'shop_userz', 'User', false),
    (err: unknown) =>
      err instanceof UsageError &&
      err.message === 'tombstone --topic shop_userz: not in topics.yaml (topics: shop_users, shop_orders); check the name, or add --force to send to it anyway',
  );
  // _genesis of a topic that has no genesis replica is not configured either.
  assert.throws(() => tombstoneTarget(topics, 'shop_orders_genesis', 'Order', false), /not in topics\.yaml/);
  const forced = tombstoneTarget(topics, 'legacy_users', 'User', true);
  assert.deepEqual(forced, { topicName: 'legacy_users', genesisReplica: false, notes: ['note: legacy_users is not in topics.yaml; sending to it as a plain topic (--force)'] });
});

test('a model that is not on the topic needs --force', () => {
  assert.throws(() => tombstoneTarget(topics, 'users', 'Usr', false), /^UsageError: tombstone --model Usr: not a model of topic shop_users in topics\.yaml \(models: User\); check the name, or add --force/);
  const forced = tombstoneTarget(topics, 'users', 'Admin::User', true);
  assert.equal(forced.topicName, 'shop_users');
  assert.deepEqual(forced.notes, ['note: Admin::User is not a model of shop_users in topics.yaml; sending anyway (--force)']);
});
