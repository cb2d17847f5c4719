import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OBSERVER_TOPIC, type TopicConfig } from '../../../src/config/topics-types';
import type { ClaimedRow } from '../../../src/domain/outbox-row';
import { resolveOwnTargets, targetKeys } from '../../../src/relay/batch-planning';
import type { RowWork } from '../../../src/relay/batch-work';

// resolveOwnTargets decides whether a batch's resource locks can be taken while it registers its
// in-flight entry (one round trip), which is only right when no row needs a query to find what
// it publishes.

const topicWith = (name: string, models: string[], dependencies: string[] = []): TopicConfig =>
  ({ name, models: new Map(models.map((m) => [m, {}])), dependencies: new Map(dependencies.map((d) => [d, []])) }) as unknown as TopicConfig;

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

const workOf = (rows: ClaimedRow[]): RowWork[] => rows.map((r) => ({ row: r, targets: [], coalescedInto: undefined, messages: [], error: undefined, first: 0 }));

test('rows of configured models publish themselves: targets filled, keys named as the locks name them', () => {
  const topic = topicWith('v1_users', ['User', 'Admin::User']);
  const work = workOf([row('1', 'User', '7'), row('2', 'Admin::User', '7')]);
  assert.equal(resolveOwnTargets(topic, work), true);
  assert.deepEqual(
    work.map((w) => w.targets.map((t) => [t.model, t.resourceId, t.eventName])),
    [[['User', '7', 'x_updated']], [['Admin::User', '7', 'x_updated']]],
  );
  assert.deepEqual(targetKeys(work), ['v1_users:User:7', 'v1_users:Admin::User:7']);
});

test('a coalesced row gets no target of its own (its representative publishes for it)', () => {
  const topic = topicWith('v1_users', ['User']);
  const work = workOf([row('1', 'User', '7'), row('2', 'User', '7')]);
  const [first, second] = work as [RowWork, RowWork];
  second.coalescedInto = first;
  assert.equal(resolveOwnTargets(topic, work), true);
  assert.equal(first.targets.length, 1);
  assert.equal(second.targets.length, 0);
  assert.deepEqual(targetKeys(work), ['v1_users:User:7']);
});

test('a dependency row, an unknown model or the observer topic need a query: nothing is changed', () => {
  const topic = topicWith('v1_bookings', ['Booking'], ['BookingsFee']);
  for (const rows of [[row('1', 'Booking', '1'), row('2', 'BookingsFee', '9')], [row('3', 'Booking', '1'), row('4', 'Nope', '1')]]) {
    const work = workOf(rows);
    assert.equal(resolveOwnTargets(topic, work), false);
    assert.ok(work.every((w) => w.targets.length === 0), 'no row was given a target');
  }
  const observer = workOf([row('5', 'Booking', '1')]);
  assert.equal(resolveOwnTargets(topicWith(OBSERVER_TOPIC, ['Booking']), observer), false);
  assert.equal(observer[0]?.targets.length, 0);
});
