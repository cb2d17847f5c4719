import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planMessage, PoisonMessageError, type PlanContext } from '../../../src/sink/apply-plan';
import { readEnvelope, type SinkEvent } from '../../../src/sink/envelope';
import { writeJson, type JsonValue } from '../../../src/sink/json-value';
import { resolver, SYNCED, target } from './targets';

const users = target('User', 'users', SYNCED);

function events(value: unknown): SinkEvent[] {
  const reading = readEnvelope(Buffer.from(JSON.stringify(value)));
  assert.equal(reading.kind, 'events');
  return reading.kind === 'events' ? [...reading.events] : [];
}

function context(overrides: Partial<PlanContext> = {}): PlanContext {
  let seq = 0;
  return { resolve: resolver({ User: users }), softDelete: 'cancel', strictMapping: false, inbox: false, nextSeq: () => seq++, ...overrides };
}

const record = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id: 1,
  name: 'Dionysus',
  created_at: '2024-01-01T10:00:00.000Z',
  updated_at: '2024-01-02T10:00:00.000Z',
  links: {},
  ...extra,
});
const message = (event: string, data: unknown, modelName = 'User'): SinkEvent[] => events({ message: [{ event, model_name: modelName, data: [data] }] });
const values = (v: ReadonlyMap<string, JsonValue>): Record<string, string> => Object.fromEntries([...v].map(([k, x]) => [k, writeJson(x)]));

test('created: the columns the table has, the remote id, the whole attribute hash, and a restore', () => {
  const plan = planMessage(0, message('user_created', record({ unknown_attribute: 1 })), context());
  assert.equal(plan.ops.length, 1);
  const op = plan.ops[0];
  assert.equal(op?.kind, 'upsert');
  assert.equal(op?.incomingTime, '2024-01-02T10:00:00.000Z');
  assert.deepEqual(values(op?.values ?? new Map()), {
    synced_id: '1',
    synced_created_at: '"2024-01-01T10:00:00.000Z"',
    synced_updated_at: '"2024-01-02T10:00:00.000Z"',
    name: '"Dionysus"',
    synced_canceled_at: 'null',
    synced_data:
      '{"synced_id":1,"synced_created_at":"2024-01-01T10:00:00.000Z","synced_updated_at":"2024-01-02T10:00:00.000Z","name":"Dionysus","unknown_attribute":1}',
  });
});

test('renames (remote to local) and custom synced_* column names', () => {
  const renamed = target('User', 'people', ['remote_id', 'blob', 'full_name', 'remote_updated_at', 'synced_updated_at', 'deleted_at'], {
    rename: { name: 'full_name' },
    columns: { id: 'remote_id', data: 'blob', updatedAt: 'remote_updated_at', canceledAt: 'deleted_at' },
  });
  const plan = planMessage(0, message('user_updated', record()), context({ resolve: resolver({ User: renamed }) }));
  const v = values(plan.ops[0]?.values ?? new Map());
  assert.equal(v['full_name'], '"Dionysus"');
  assert.equal(v['remote_id'], '1');
  assert.equal(v['remote_updated_at'], '"2024-01-02T10:00:00.000Z"');
  assert.equal(v['synced_updated_at'], '"2024-01-02T10:00:00.000Z"', 'the gem also assigns the standard name when the table has it');
  assert.equal(v['deleted_at'], 'null', 'restore uses the custom soft-delete column');
  assert.ok(v['blob']?.startsWith('{"synced_id":1'));
  assert.equal(renamed.guardColumn?.name, 'remote_updated_at');
});

test('destroyed: hard delete cancels (cancel strategy) or deletes; a received canceled_at is kept', () => {
  const hard = message('user_destroyed', { links: {}, id: 1 });
  const cancel = planMessage(0, hard, context()).ops[0];
  assert.equal(cancel?.kind, 'upsert');
  assert.equal(cancel?.cancelNow, true);
  assert.deepEqual(values(cancel?.values ?? new Map()), { synced_id: '1', synced_data: '{"synced_id":1}' });
  assert.equal(cancel?.incomingTime, null);

  const del = planMessage(0, hard, context({ softDelete: 'delete' })).ops[0];
  assert.equal(del?.kind, 'delete');

  const soft = planMessage(0, message('user_destroyed', record({ canceled_at: '2024-01-03T00:00:00.000Z' })), context({ softDelete: 'delete' })).ops[0];
  assert.equal(soft?.kind, 'upsert');
  assert.equal(soft?.cancelNow, false);
  assert.equal(values(soft?.values ?? new Map())['synced_canceled_at'], '"2024-01-03T00:00:00.000Z"');

  const noColumn = target('User', 'users', ['synced_id', 'name']);
  const forced = planMessage(0, hard, context({ resolve: resolver({ User: noColumn }) })).ops[0];
  assert.equal(forced?.kind, 'delete', 'without a soft-delete column there is nothing to cancel');
});

test('unmapped models are skipped, or poison under strict mapping; ignored models are skipped even then', () => {
  assert.equal(planMessage(0, message('rental_created', record(), 'Rental'), context()).skippedEvents, 1);
  assert.throws(() => planMessage(0, message('rental_created', record(), 'Rental'), context({ strictMapping: true })), PoisonMessageError);
  const ignoring = context({ strictMapping: true, resolve: resolver({ User: users, Rental: 'ignored' }) });
  assert.equal(planMessage(0, message('rental_created', record(), 'Rental'), ignoring).skippedEvents, 1);
});

test('records without an id are counted and skipped; other events go to the inbox when there is one', () => {
  assert.equal(planMessage(0, message('user_updated', { name: 'x' }), context()).recordsWithoutId, 1);
  const other = message('user_logged_in', { id: 1 });
  assert.equal(planMessage(0, other, context()).skippedEvents, 1);
  const inbox = planMessage(3, other, context({ inbox: true })).inbox;
  assert.deepEqual(inbox.map((e) => [e.message, e.eventIndex, e.eventName, e.modelName]), [[3, 0, 'user_logged_in', 'User']]);
});

test('sideloads become child operations of the parent, with its foreign key, then a prune of the others', () => {
  const rentals = target('Rental', 'rentals', [...SYNCED, 'synced_booking_ids'], {
    relationships: [{ name: 'bookings', foreignKey: 'synced_rental_id', prune: 'delete' }],
  });
  const bookings = target('bookings', 'bookings', [...SYNCED, 'synced_rental_id']);
  const accounts = target('Account', 'accounts', SYNCED);
  const ctx = context({ resolve: resolver({ Rental: rentals, bookings, Account: accounts }) });
  const payload = record({
    links: { bookings: [10, 11], owner: { id: 5, type: 'Account' } },
    bookings: [
      { id: 10, links: {} },
      { id: 11, links: {} },
    ],
    owner: { id: 5, links: {} },
  });
  const plan = planMessage(0, message('rental_updated', payload, 'Rental'), ctx);
  assert.deepEqual(
    plan.ops.map((op) => [op.target.table, writeJson(op.syncedId), op.parent?.target.table ?? null, op.seq]),
    [
      ['rentals', '1', null, 0],
      ['bookings', '10', 'rentals', 1],
      ['bookings', '11', 'rentals', 2],
      ['accounts', '5', 'rentals', 4],
    ],
  );
  assert.equal(values(plan.ops[0]?.values ?? new Map())['synced_booking_ids'], '[10,11]');
  assert.equal(values(plan.ops[1]?.values ?? new Map())['synced_rental_id'], '1');
  assert.equal(values(plan.ops[1]?.values ?? new Map())['synced_canceled_at'], 'null', 'sideloads of an update are restored too');
  assert.deepEqual(
    plan.prunes.map((p) => [p.target.table, p.foreignKey, p.mode, p.seq, p.keep.map((k) => writeJson(k))]),
    [['bookings', 'synced_rental_id', 'delete', 3, ['10', '11']]],
  );

  const destroyed = planMessage(0, message('rental_destroyed', { ...payload, canceled_at: '2024-01-03T00:00:00.000Z' }, 'Rental'), ctx);
  assert.equal(destroyed.ops[1]?.kind, 'upsert', 'sideloads of a destroyed record are only updated');
  assert.equal(destroyed.ops[1]?.values.has('synced_canceled_at'), false, 'and never restored');
});
