import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTopicsYaml } from '../../../src/config/topics-file';
import { RelayError } from '../../../src/errors';
import { GenesisUsageError } from '../../../src/genesis/genesis-options';
import { idRelation, resolveTarget, serializerScope } from '../../../src/genesis/genesis-target';

const topics = parseTopicsYaml(
  `namespace: ns
defaults:
  soft_delete_column: deleted_at
topics:
  users:
    genesis_replica: true
    models:
      User: { sql: "SELECT id FROM users WHERE id = ANY($1::bigint[])", table: app.users }
      Admin::User: { view: admin_users, soft_delete_column: archived_at }
  orders:
    models:
      Order: { sql: "SELECT id FROM orders WHERE id = ANY($1::bigint[])" }
`,
  'topics.yaml',
);

test('the primary of a replica pair sends to both, _genesis only there, a plain topic alone', () => {
  assert.deepEqual(resolveTarget(topics, 'users', 'User').topicNames, ['ns_users', 'ns_users_genesis']);
  assert.deepEqual(resolveTarget(topics, 'ns_users', 'User').topicNames, ['ns_users', 'ns_users_genesis']);
  const replica = resolveTarget(topics, 'users_genesis', 'User');
  assert.deepEqual([replica.name, replica.topicName, replica.genesisReplica], ['ns_users_genesis', 'ns_users_genesis', false]);
  assert.deepEqual(resolveTarget(topics, 'ns_orders', 'Order').topicNames, ['ns_orders']);
});

test('unknown topics and models are usage errors listing what is configured', () => {
  assert.throws(() => resolveTarget(topics, 'bookings', 'User'), (e: unknown) => e instanceof GenesisUsageError && /topics: ns_users, ns_orders/.test(e.message));
  assert.throws(() => resolveTarget(topics, 'users', 'Order'), /model Order is not configured on topic ns_users in topics.yaml \(models: User, Admin::User\)/);
});

test('ids come from table:, else the view; an sql model without table: names the key to add', () => {
  assert.equal(idRelation(resolveTarget(topics, 'users', 'User').model, 'topics.yaml'), 'app.users');
  assert.equal(idRelation(resolveTarget(topics, 'users', 'Admin::User').model, 'topics.yaml'), 'admin_users');
  assert.throws(
    () => idRelation(resolveTarget(topics, 'orders', 'Order').model, 'topics.yaml'),
    (e: unknown) => e instanceof RelayError && e.code === 'TOPICS_FILE_INVALID' && e.message.startsWith('topics.yaml: topics.orders.models.Order.table:'),
  );
});

test('soft_delete_column: the gem default, a file-wide default, a per-model override', () => {
  assert.equal(resolveTarget(topics, 'users', 'User').model.softDeleteColumn, 'deleted_at');
  assert.equal(resolveTarget(topics, 'users', 'Admin::User').model.softDeleteColumn, 'archived_at');
  const plain = parseTopicsYaml('topics:\n  t:\n    models:\n      T: { view: t }\n', 'f');
  assert.equal(plain.topics[0]?.models.get('T')?.softDeleteColumn, 'canceled_at');
  assert.equal(plain.topics[0]?.models.get('T')?.table, undefined);
});

test('bad table and soft_delete_column values are reported with the key', () => {
  try {
    parseTopicsYaml('topics:\n  t:\n    models:\n      T: { view: t, table: "drop table", soft_delete_column: "a b" }\n', 'f');
    assert.fail('expected a rejection');
  } catch (err) {
    assert.ok(err instanceof RelayError);
    assert.match(err.message, /topics\.t\.models\.T\.table: must be a table or view name/);
    assert.match(err.message, /topics\.t\.models\.T\.soft_delete_column: must be a column name/);
  }
});

test('only the target model is prepared', () => {
  const scope = serializerScope(topics, resolveTarget(topics, 'users_genesis', 'User'));
  assert.deepEqual(scope.topics.map((t) => [t.name, [...t.models.keys()]]), [['ns_users', ['User']]]);
});
