import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { loadSinkFile, parseSinkYaml } from '../../../src/config/sink-file';
import { packageRoot } from '../../../src/package-root';
import { RelayError } from '../../../src/errors';

const VALID = `
client_id: consumer_app
namespace: dionysus_demo
defaults:
  soft_delete: cancel
  columns:
    synced_updated_at: remote_updated_at
topics:
  users: {}
  rentals:
    soft_delete: delete
    on_poison: stop
  bookings:
    dead_letter_topic: bookings_dead
    strict_mapping: true
models:
  User:
    table: consumer.users
    rename: {name: full_name}
  Rental:
    table: rentals
    relationships:
      bookings: {foreign_key: synced_rental_id, prune: delete}
  bookings:
    table: bookings
    columns: {synced_data: payload}
  Legacy:
    ignore: true
inbox:
  table: dionysus_sink_inbox
librdkafka:
  session.timeout.ms: 10000
  fetch.wait.max.ms: 50
`;

function problems(yaml: string): string[] {
  try {
    parseSinkYaml(yaml, 'sink.yaml');
  } catch (err) {
    assert.ok(err instanceof RelayError);
    assert.equal(err.code, 'SINK_FILE_INVALID');
    return err.message.split('\n');
  }
  assert.fail('expected the sink file to be refused');
}

test('a complete sink file: group from client_id, namespaced topics, defaults, mappings, inbox, librdkafka', () => {
  const config = parseSinkYaml(VALID, 'sink.yaml');
  assert.equal(config.groupId, 'consumer_app_dionysus_consumer_group_for_consumer_app');
  assert.deepEqual(
    config.topics.map((t) => [t.name, t.softDelete, t.onPoison, t.deadLetterTopic ?? null, t.strictMapping]),
    [
      ['dionysus_demo_users', 'cancel', 'dead_letter', 'consumer_app_dionysus_consumer_group_for_consumer_app_dead_letters', false],
      ['dionysus_demo_rentals', 'delete', 'stop', null, false],
      ['dionysus_demo_bookings', 'cancel', 'dead_letter', 'bookings_dead', true],
    ],
  );
  const user = config.models.get('User');
  assert.equal(user?.table, 'consumer.users');
  assert.equal(user?.rename.get('name'), 'full_name');
  assert.equal(user?.columns.updatedAt, 'remote_updated_at');
  assert.equal(user?.columns.id, 'synced_id');
  assert.equal(config.models.get('bookings')?.columns.data, 'payload');
  assert.equal(config.models.get('Legacy')?.table, undefined);
  assert.deepEqual(config.models.get('Rental')?.relationships.get('bookings'), {
    name: 'bookings',
    foreignKey: 'synced_rental_id',
    prune: 'delete',
    path: 'models.Rental.relationships.bookings',
  });
  assert.equal(config.inboxTable, 'dionysus_sink_inbox');
  assert.deepEqual(config.librdkafka, { 'session.timeout.ms': 10000, 'fetch.wait.max.ms': 50 });
});

test('an explicit group_id wins; no namespace keeps the topic keys as names', () => {
  const config = parseSinkYaml('group_id: g1\ntopics: {users: {}}\nmodels: {User: {table: users}}\n', 'f');
  assert.equal(config.groupId, 'g1');
  assert.equal(config.topics[0]?.name, 'users');
});

test('every problem names the file, the line and the key', () => {
  const found = problems(`
namespace: ns
topics:
  users:
    soft_delete: archive
    colour: red
models:
  User:
    table: users
    ignore: true
  Rental:
    table: "bad table"
    relationships:
      bookings: {prune: delete}
librdkafka:
  group.id: other
unexpected: 1
`);
  assert.ok(found.some((l) => /^sink\.yaml:\d+: group_id: required/.test(l)), found.join('\n'));
  assert.ok(found.includes('sink.yaml:5: topics.users.soft_delete: must be one of cancel, delete'), found.join('\n'));
  assert.ok(found.some((l) => l.startsWith('sink.yaml:6: topics.users.colour: unknown key')), found.join('\n'));
  assert.ok(found.some((l) => l.startsWith('sink.yaml:9: models.User: needs exactly one of `table`')), found.join('\n'));
  assert.ok(found.some((l) => l.startsWith('sink.yaml:12: models.Rental.table: must be a table name')), found.join('\n'));
  assert.ok(found.some((l) => /models\.Rental\.relationships\.bookings\.foreign_key: required with prune/.test(l)), found.join('\n'));
  assert.ok(found.some((l) => /pruning needs a table for "bookings"/.test(l)), found.join('\n'));
  assert.ok(found.some((l) => l.startsWith('sink.yaml:16: librdkafka.group.id: is set by the sink')), found.join('\n'));
  assert.ok(found.some((l) => l.startsWith('sink.yaml:17: unexpected: unknown key')), found.join('\n'));
});

test('empty topics or models, and broken YAML, are refused', () => {
  assert.ok(problems('client_id: a\ntopics: {}\nmodels: {User: {table: users}}\n').some((l) => /topics: must be a map with at least one topic/.test(l)));
  assert.ok(problems('client_id: a\ntopics: {users: {}}\n').some((l) => /models: must map at least one model/.test(l)));
  assert.ok(problems('client_id: a\ntopics: [users\n').some((l) => /^f?sink\.yaml:\d+:\d+: invalid YAML/.test(l)));
  assert.ok(problems('- just\n- a list\n').some((l) => /the sink file must be a map/.test(l)));
});

test('the example sink file of the repository (npm run demo) is valid', () => {
  const config = loadSinkFile(join(packageRoot(), 'config', 'sink.yaml'));
  assert.equal(config.groupId, 'consumer_app_dionysus_consumer_group_for_consumer_app');
  assert.deepEqual(config.topics.map((t) => t.name), ['dionysus_demo_users']);
  assert.equal(config.models.get('User')?.table, 'users');
});
