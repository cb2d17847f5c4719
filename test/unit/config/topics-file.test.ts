import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTopicsYaml } from '../../../src/config/topics-file';
import { RelayError } from '../../../src/errors';

function problems(yaml: string): string[] {
  try {
    parseTopicsYaml(yaml, 'topics.yaml');
  } catch (err) {
    assert.ok(err instanceof RelayError);
    assert.equal(err.code, 'TOPICS_FILE_INVALID');
    return err.message.split('\n');
  }
  assert.fail('expected the YAML to be rejected');
}

describe('parseTopicsYaml', () => {
  test('the issue example parses, with the gem defaults filled in', () => {
    const config = parseTopicsYaml(
      `namespace: dionysus_demo
topics:
  users:
    partition_key: id
    genesis_replica: false
    models:
      User:
        sql: SELECT id, name FROM users WHERE id = ANY($1::bigint[])
  accounts:
    genesis_replica: true
    models:
      Account:
        view: dionysus_accounts
      Admin::User:
        view: public.admin_users
        id_type: uuid
`,
      'topics.yaml',
    );
    assert.equal(config.namespace, 'dionysus_demo');
    assert.deepEqual(config.topics.map((t) => t.name), ['dionysus_demo_users', 'dionysus_demo_accounts']);
    const users = config.byName.get('dionysus_demo_users');
    assert.equal(users?.genesisReplica, false);
    assert.deepEqual(users?.models.get('User')?.source, { kind: 'sql', sql: 'SELECT id, name FROM users WHERE id = ANY($1::bigint[])' });
    assert.equal(users?.models.get('User')?.partitionKey, 'id');
    const accounts = config.byName.get('dionysus_demo_accounts');
    assert.equal(accounts?.genesisReplica, true);
    assert.equal(accounts?.models.get('Account')?.partitionKey, 'account_id', 'the gem default');
    assert.deepEqual(accounts?.models.get('Admin::User')?.source, { kind: 'view', view: 'public.admin_users' });
    assert.equal(accounts?.models.get('Admin::User')?.idType, 'uuid');
  });

  test('defaults.partition_key changes the default; a model may override its topic', () => {
    const config = parseTopicsYaml(
      `namespace: n
defaults:
  partition_key: tenant_id
topics:
  a:
    models:
      A: { sql: "SELECT id FROM a WHERE id = ANY($1)" }
      B: { sql: "SELECT id FROM b WHERE id = ANY($1)", partition_key: owner_id }
`,
      'f',
    );
    assert.equal(config.topics[0]?.models.get('A')?.partitionKey, 'tenant_id');
    assert.equal(config.topics[0]?.models.get('B')?.partitionKey, 'owner_id');
  });

  test('no namespace: the topic key is the Kafka topic', () => {
    const config = parseTopicsYaml(`topics:\n  plain:\n    models:\n      A: { view: a }\n`, 'f');
    assert.equal(config.topics[0]?.name, 'plain');
  });

  test('every problem is reported with file, line and key path', () => {
    const lines = problems(`namespace: n
topics:
  users:
    partiton_key: id
    models:
      user:
        sql: SELECT 1
      User:
        sql: SELECT id FROM users WHERE id = $1 AND x = $2
      Order: {}
  empty:
    models: {}
  bad_genesis_genesis:
    genesis_replica: maybe
    models:
      X: { view: "drop table" }
`);
    assert.ok(lines.includes('topics.yaml:4: topics.users.partiton_key: unknown key (expected one of: partition_key, genesis_replica, coalesce, ordering, models)'), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('topics.yaml:6: topics.users.models.user: a model is named by its class name')));
    assert.ok(lines.some((l) => l.startsWith('topics.yaml:9: topics.users.models.User.sql: the statement may only use $1')));
    assert.ok(lines.some((l) => l.startsWith('topics.yaml:10: topics.users.models.Order: needs exactly one of')));
    assert.ok(lines.some((l) => l.startsWith('topics.yaml:12: topics.empty.models: a topic needs at least one model')));
    assert.ok(lines.some((l) => l.startsWith('topics.yaml:14: topics.bad_genesis_genesis.genesis_replica: must be true or false')));
    assert.ok(lines.some((l) => l.startsWith('topics.yaml:16: topics.bad_genesis_genesis.models.X.view: must be a view name')));
  });

  test('a statement without $1 is rejected', () => {
    const lines = problems(`topics:\n  t:\n    models:\n      T:\n        sql: SELECT id FROM t\n`);
    assert.ok(lines.some((l) => l.includes('topics.t.models.T.sql: the statement must use $1')), lines.join('\n'));
  });

  test('an observer statement may only use $1 (the relay pages with parameters of its own)', () => {
    const lines = problems(`
topics:
  rentals:
    models:
      Rental:
        sql: SELECT id FROM rentals WHERE id = ANY($1::bigint[])
observers:
  o:
    model: Account
    attributes: [name]
    topic: rentals
    republish: Rental
    sql: SELECT id FROM rentals WHERE account_id = ANY($1::bigint[]) LIMIT $2
`);
    assert.deepEqual(lines, ['topics.yaml:13: observers.o.sql: the statement may only use $1']);
  });

  test('topic names ending in _genesis are reserved', () => {
    const lines = problems(`namespace: n\ntopics:\n  users_genesis:\n    models:\n      U: { view: u }\n`);
    assert.ok(lines.some((l) => l.includes('must not end with _genesis')), lines.join('\n'));
  });

  test('malformed YAML reports the parser position', () => {
    const lines = problems(`topics:\n  t: [unclosed\n`);
    assert.match(lines[0] ?? '', /^topics\.yaml:\d+:\d+: invalid YAML/);
  });

  test('duplicate keys are YAML errors', () => {
    const lines = problems(`topics:\n  t:\n    models:\n      A: { view: a }\n  t:\n    models:\n      B: { view: b }\n`);
    assert.match(lines.join('\n'), /invalid YAML/);
  });

  test('an empty file or a scalar root is rejected', () => {
    assert.match(problems('').join('\n'), /must be a map/);
    assert.match(problems('just a string').join('\n'), /must be a map/);
  });
});
