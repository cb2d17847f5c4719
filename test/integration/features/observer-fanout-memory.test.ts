import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../../helpers/database';
import { createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { startRelay, writeTopicsFile, type RelayProcess } from '../../helpers/relay-process';
import { waitFor } from '../observability/support';

// An observer fan-out is read and written a page of ids at a time: a change that reaches 200,000
// records is handed to the outbox by a relay whose heap is too small to hold all their ids at once
// (read into memory and inserted in one statement, they exhaust it and the relay dies).

const RELATED = 200_000;
const HEAP_MB = 24;

let db: TestDatabase;
let relay: RelayProcess | undefined;
const namespace = uniqueNamespace('obsmem');
const topic = `${namespace}_rentals`;

before(async () => {
  db = await createTestDatabase('obsmem');
  await db.query(`CREATE TABLE rentals (id bigint PRIMARY KEY, account_id bigint NOT NULL)`);
  await db.query(`CREATE INDEX ON rentals (account_id)`);
  await db.query(`INSERT INTO rentals SELECT g, 1 FROM generate_series(1, ${RELATED}) g`);
  await db.query(`INSERT INTO rentals VALUES (${RELATED + 1}, 2)`);
  await createTopic(topic, 1);
});

after(async () => {
  relay?.kill('SIGKILL');
  await relay?.exited;
  await deleteTopics([topic]);
  await db.drop();
});

test(`a fan-out to ${RELATED} records is handed to the outbox within a ${HEAP_MB} MB heap`, async () => {
  const file = writeTopicsFile(`
namespace: ${namespace}
topics:
  rentals:
    models:
      Rental:
        sql: SELECT id, account_id FROM rentals WHERE id = ANY($1::bigint[])
observers:
  account_rentals:
    model: Account
    attributes: [name]
    topic: rentals
    republish: Rental
    sql: SELECT id FROM rentals WHERE account_id = ANY($1::bigint[])
`);
  await db.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, changeset, created_at, updated_at)
     VALUES ('Account', '1', 'account_updated', '__outbox_observer__', '{"name": ["a", "b"]}', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')`,
  );
  relay = startRelay(['run', '--topics', file], { ...db.relayEnv(), NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}` });
  const running = relay;
  // The observer row is marked in the transaction that wrote its fan-out.
  await waitFor(
    'the observer row to be marked published',
    async () => {
      const [row] = await db.query<{ published: boolean }>(`SELECT published_at IS NOT NULL AS published FROM dionysus_outboxes WHERE topic = '__outbox_observer__'`);
      return row?.published === true ? true : undefined;
    },
    { relay: running, timeoutMs: 120_000, describe: () => running.output().slice(-2000) },
  );
  const [fanout] = await db.query<{ n: number; distinct_ids: number; low: string; high: string }>(
    `SELECT count(*)::int AS n, count(DISTINCT resource_id)::int AS distinct_ids, min(resource_id::bigint)::text AS low, max(resource_id::bigint)::text AS high
       FROM dionysus_outboxes WHERE topic = $1 AND resource_class = 'Rental' AND event_name = 'rental_updated'`,
    [topic],
  );
  assert.deepEqual(fanout, { n: RELATED, distinct_ids: RELATED, low: '1', high: String(RELATED) });
  assert.match(relay.output(), new RegExp(`"records":${RELATED}`));
  relay.kill('SIGTERM');
  assert.equal(await relay.exited, 0, relay.output().slice(-4000));
});
