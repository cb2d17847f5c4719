import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTopicsYaml } from '../../../src/config/topics-file';
import { claimTopics, type TopicConfig } from '../../../src/config/topics-types';
import type { ClaimedRow } from '../../../src/domain/outbox-row';
import { OBSERVER_TOPIC } from '../../../src/domain/topic-names';
import { RelayError } from '../../../src/errors';
import { ownTargets, workOn, type RowTargets } from '../../../src/relay/batch-targets';
import { targetKeys } from '../../../src/relay/resource-locks';

// ownTargets decides whether a batch's resource locks can be taken while it registers its
// in-flight entry (one round trip), which is only right when no row needs a query to find what
// it publishes.

const config = parseTopicsYaml(
  `
namespace: v1
topics:
  users:
    models:
      User:
        sql: SELECT id FROM users WHERE id = ANY($1::bigint[])
      Admin::User:
        sql: SELECT id FROM admin_users WHERE id = ANY($1::bigint[])
  bookings:
    coalesce: true
    models:
      Booking:
        sql: SELECT id FROM bookings WHERE id = ANY($1::bigint[])
        dependencies:
          BookingsFee:
            parents_sql: SELECT id AS dependency_id, booking_id AS parent_id FROM fees WHERE id = ANY($1::bigint[])
observers:
  fees:
    model: Booking
    attributes: [name]
    topic: bookings
    republish: Booking
    sql: SELECT id FROM bookings WHERE id = ANY($1::bigint[])
`,
  'topics.yaml',
);
const users = config.byName.get('v1_users') as TopicConfig;
const bookings = config.byName.get('v1_bookings') as TopicConfig;

const row = (id: string, resourceClass: string, resourceId: string): ClaimedRow => ({
  id,
  resourceClass,
  resourceId,
  eventName: 'x_updated',
  topic: 't',
  partitionKey: null,
  attempts: 0,
  createdAtMs: 0,
  changeset: null,
});

const described = (targets: readonly RowTargets[] | undefined): unknown =>
  targets?.map((t) => (t instanceof RelayError ? t.code : t.map((x) => [x.model, x.resourceId, x.eventName])));

test('rows of configured models publish themselves: targets filled, keys named as the locks name them', () => {
  const targets = ownTargets(users, workOn(users, [row('1', 'User', '7'), row('2', 'Admin::User', '7')]));
  assert.deepEqual(described(targets), [[['User', '7', 'x_updated']], [['Admin::User', '7', 'x_updated']]]);
  assert.deepEqual(targetKeys(targets ?? []), ['v1_users:User:7', 'v1_users:Admin::User:7']);
});

test('a coalesced row gets no target of its own (its representative publishes for it)', () => {
  const rows = workOn(bookings, [row('1', 'Booking', '7'), row('2', 'Booking', '7')]);
  assert.deepEqual(rows.map((w) => w.representative), [1, 1]);
  const targets = ownTargets(bookings, rows);
  assert.deepEqual(described(targets), [[], [['Booking', '7', 'x_updated']]]);
  assert.deepEqual(targetKeys(targets ?? []), ['v1_bookings:Booking:7']);
});

test('a dependency row, an unknown model or the observer topic need a query: no targets', () => {
  for (const rows of [[row('1', 'Booking', '1'), row('2', 'BookingsFee', '9')], [row('3', 'Booking', '1'), row('4', 'Nope', '1')]]) {
    assert.equal(ownTargets(bookings, workOn(bookings, rows)), undefined);
  }
  const observerTopic = claimTopics(config).find((t) => t.name === OBSERVER_TOPIC) as TopicConfig;
  assert.equal(ownTargets(observerTopic, workOn(observerTopic, [row('5', 'Booking', '1')])), undefined);
});
