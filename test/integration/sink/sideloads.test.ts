import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import type { RelayProcess } from '../../helpers/relay-process';
import { produceValues, second, sinkEnv, startSink, terminate, writeSinkFile } from '../../helpers/sink';
import { waitFor } from '../observability/support';

// Sideloaded relationships (the gem's `with:` dependencies): records of their own tables, applied
// with the parent's event, the parent's foreign key set on them; local records the parent no
// longer lists are pruned (deleted, or cancelled); nothing of a stale parent is applied.

let db: TestDatabase;
let sink: RelayProcess;
const ns = uniqueNamespace('sinkside');
const topic = `${ns}_rentals`;

before(async () => {
  db = await createTestDatabase('sinkside');
  const synced = `synced_id bigint NOT NULL UNIQUE, synced_data jsonb, synced_created_at timestamp(6), synced_updated_at timestamp(6), synced_canceled_at timestamp(6)`;
  await db.query(`CREATE TABLE rentals (id bigserial PRIMARY KEY, name text, synced_booking_ids bigint[], synced_fee_ids bigint[],
                  synced_owner_id bigint, synced_owner_type text, ${synced})`);
  await db.query(`CREATE TABLE bookings (id bigserial PRIMARY KEY, starts_on date, synced_rental_id bigint, ${synced})`);
  await db.query('CREATE INDEX ON bookings (synced_rental_id)');
  await db.query(`CREATE TABLE fees (id bigserial PRIMARY KEY, amount numeric, synced_rental_id bigint, ${synced})`);
  await db.query(`CREATE TABLE accounts (id bigserial PRIMARY KEY, name text, ${synced})`);
  await createTopic(topic, 1);
  const sinkFile = writeSinkFile(`
group_id: ${ns}-sideloads
namespace: ${ns}
topics:
  rentals: {}
models:
  Rental:
    table: rentals
    relationships:
      bookings: {foreign_key: synced_rental_id, prune: delete}
      fees: {foreign_key: synced_rental_id, prune: cancel}
  bookings: {table: bookings}
  fees: {table: fees}
  Account: {table: accounts}
`);
  sink = await startSink(sinkFile, sinkEnv(db.schema));
});

after(async () => {
  if (sink?.child.exitCode === null) sink.kill('SIGKILL');
  await deleteTopics([topic]);
  await db.drop();
});

function rental(updatedAt: string, bookings: number[], fees: number[], event = 'rental_updated'): string {
  return JSON.stringify({
    message: [
      {
        event,
        model_name: 'Rental',
        data: [
          {
            id: 1,
            name: `rental at ${updatedAt}`,
            created_at: second(0),
            updated_at: updatedAt,
            links: { bookings, fees, owner: { id: 5, type: 'Account' } },
            bookings: bookings.map((id) => ({ id, starts_on: '2024-06-01', created_at: second(0), updated_at: updatedAt, links: { rental: 1 } })),
            fees: fees.map((id) => ({ id, amount: '12.5', created_at: second(0), updated_at: updatedAt, links: {} })),
            owner: { id: 5, name: 'acme', created_at: second(0), updated_at: updatedAt, links: {} },
          },
        ],
      },
    ],
  });
}

type Row = Record<string, unknown>;
async function state(): Promise<{ rental: Row | undefined; bookings: Row[]; fees: Row[]; accounts: Row[] }> {
  const [r] = await db.query('SELECT name, synced_booking_ids, synced_fee_ids, synced_owner_id, synced_owner_type FROM rentals');
  return {
    rental: r,
    bookings: await db.query(`SELECT synced_id::int AS id, synced_rental_id::int AS rental, starts_on::text AS starts_on FROM bookings ORDER BY synced_id`),
    fees: await db.query(`SELECT synced_id::int AS id, synced_rental_id::int AS rental, amount::text AS amount, synced_canceled_at IS NOT NULL AS canceled FROM fees ORDER BY synced_id`),
    accounts: await db.query('SELECT synced_id::int AS id, name FROM accounts'),
  };
}

async function stateWhen(ready: (s: Awaited<ReturnType<typeof state>>) => boolean, what: string): Promise<Awaited<ReturnType<typeof state>>> {
  let last: Awaited<ReturnType<typeof state>> | undefined;
  return waitFor(what, async () => {
    last = await state();
    return ready(last) ? last : undefined;
  }, { relay: sink, describe: () => `${JSON.stringify(last)}\n${sink.output().slice(-2000)}` });
}

test('sideloads are applied to their own tables, linked to their parent', async () => {
  await produceValues(topic, [{ key: 'Rental:1', value: rental(second(10), [10, 11], [20, 21]) }]);
  const s = await stateWhen((x) => x.rental !== undefined && x.bookings.length === 2 && x.fees.length === 2, 'rental 1 with its sideloads');
  assert.deepEqual(s.rental, { name: `rental at ${second(10)}`, synced_booking_ids: ['10', '11'], synced_fee_ids: ['20', '21'], synced_owner_id: '5', synced_owner_type: 'Account' });
  assert.deepEqual(s.bookings, [
    { id: 10, rental: 1, starts_on: '2024-06-01' },
    { id: 11, rental: 1, starts_on: '2024-06-01' },
  ]);
  assert.deepEqual(s.fees, [
    { id: 20, rental: 1, amount: '12.5', canceled: false },
    { id: 21, rental: 1, amount: '12.5', canceled: false },
  ]);
  assert.deepEqual(s.accounts, [{ id: 5, name: 'acme' }], 'a polymorphic to-one sideload is mapped by its type');
});

test('records the parent no longer lists are pruned: deleted or cancelled as configured', async () => {
  // A local booking of rental 1 that no payload ever listed goes too.
  await db.query(`INSERT INTO bookings (synced_id, synced_rental_id) VALUES (99, 1)`);
  await produceValues(topic, [{ key: 'Rental:1', value: rental(second(20), [11, 12], [21]) }]);
  const s = await stateWhen((x) => x.bookings.some((b) => b['id'] === 12) && x.fees.some((f) => f['canceled'] === true), 'the prune');
  assert.deepEqual(s.bookings.map((b) => b['id']), [11, 12]);
  assert.deepEqual(s.fees.map((f) => [f['id'], f['canceled']]), [
    [20, true],
    [21, false],
  ]);
});

test('a stale parent applies nothing, sideloads and prunes included; a parent without the sideload key prunes nothing', async () => {
  await produceValues(topic, [
    // Another event name, so that the in-batch de-duplication leaves it to the guard.
    { key: 'Rental:1', value: rental(second(15), [10], [20], 'rental_created') },
    { key: 'Rental:1', value: JSON.stringify({ message: [{ event: 'rental_updated', model_name: 'Rental', data: [{ id: 1, name: 'no sideloads', updated_at: second(30), links: { bookings: [11, 12] } }] }] }) },
  ]);
  const s = await stateWhen((x) => x.rental?.['name'] === 'no sideloads', 'the last update');
  assert.deepEqual(s.bookings.map((b) => b['id']), [11, 12]);
  assert.deepEqual(s.fees.map((f) => [f['id'], f['canceled']]), [
    [20, true],
    [21, false],
  ]);
  assert.equal(await terminate(sink), 0, sink.output());
});
