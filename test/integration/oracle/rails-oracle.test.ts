import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Pool } from 'pg';
import { packageRoot } from '../../../src/package-root';
import { migrate } from '../../../src/postgres/migrator';
import { relayPoolFor } from '../../helpers/database';
import { TEST_DATABASE_URL, uniqueSuffix } from '../../helpers/env';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace, type ConsumedMessage } from '../../helpers/kafka';
import { runUntilIdle, writeTopicsFile } from '../../helpers/relay-process';
import { FAILING_SAMPLE_ROWS, SAMPLE_ROWS, dataStatements, schemaStatements } from './corpus-schema';
import { TOPICS, includesOf, rubyModels, topicsYaml } from './corpus-models';

// The differential oracle (house style 16): the relay publishes the corpus's outbox rows to Kafka;
// real ActiveRecord 6.1 + ActiveSupport 6.1 (test/oracle/rails_oracle.rb, the gem's serializer
// semantics over ActiveRecord models of the same tables) computes what dionysus-rb would have
// sent; every message is compared byte for byte, with its key and partition. Rows Rails cannot
// serialize must fail in the relay too, and only those.
//
// The database is configured against the relay (DateStyle 'SQL, DMY', IntervalStyle
// postgres_verbose, extra_float_digits 0, bytea_output escape, another TimeZone): the relay pins
// its session settings, so its bytes must not change. The Ruby side runs as a Rails application
// on a server left at its defaults.

const namespace = uniqueNamespace('oracle');
const database = `oracle_${uniqueSuffix()}`;
let url: string;
let pool: Pool;

interface OutboxRow {
  readonly cls: string;
  readonly id: string;
  readonly event: string;
  readonly topic: string;
  readonly partitionKey?: string | null;
  readonly changeset?: object;
  /** What the gem publishes for it, when that is another resource (a dependency's parent). */
  readonly publishes?: { readonly cls: string; readonly id: string; readonly event: string };
}

const ROWS: readonly OutboxRow[] = [
  ...[...SAMPLE_ROWS.keys(), ...FAILING_SAMPLE_ROWS.keys()].map((id) => ({ cls: 'Sample', id: String(id), event: 'sample_updated', topic: 'samples' })),
  { cls: 'Sample', id: '1', event: 'sample_created', topic: 'samples', partitionKey: '10' },
  { cls: 'Sample', id: '999', event: 'sample_destroyed', topic: 'samples' },
  { cls: 'Sample', id: '998', event: 'sample_updated', topic: 'samples' },
  { cls: 'User', id: '101', event: 'user_updated', topic: 'users', partitionKey: '17' },
  { cls: 'User', id: '102', event: 'user_created', topic: 'users' },
  { cls: 'User', id: '103', event: 'user_updated', topic: 'users', partitionKey: ' \t' },
  { cls: 'User', id: '104', event: 'user_destroyed', topic: 'users' },
  { cls: 'User', id: '105', event: 'user_updated', topic: 'users' },
  ...['1', '2', '3'].map((id) => ({ cls: 'Booking', id, event: 'booking_updated', topic: 'bookings' })),
  { cls: 'BookingsFee', id: '11', event: 'bookings_fee_updated', topic: 'bookings', publishes: { cls: 'Booking', id: '1', event: 'booking_updated' } },
  {
    cls: 'BookingsFee', id: '99', event: 'bookings_fee_destroyed', topic: 'bookings', changeset: { booking_id: [3, null] },
    publishes: { cls: 'Booking', id: '3', event: 'booking_updated' },
  },
  ...['201', '202', '203', '204'].map((id) => ({ cls: 'Comment', id, event: 'comment_updated', topic: 'comments' })),
  ...['301', '302', '303'].map((id) => ({ cls: 'Post', id, event: 'post_updated', topic: 'comments' })),
  { cls: 'Device', id: '3F2C8A1E-0000-4000-8000-000000000001', event: 'device_updated', topic: 'keys' },
  { cls: 'Device', id: '3f2c8a1e-0000-4000-8000-000000000002', event: 'device_destroyed', topic: 'keys' },
  { cls: 'Code', id: '007', event: 'code_updated', topic: 'keys' },
  { cls: 'Code', id: '7', event: 'code_updated', topic: 'keys' },
  { cls: 'Code', id: '008', event: 'code_destroyed', topic: 'keys' },
  { cls: 'Price', id: '42.0', event: 'price_updated', topic: 'keys' },
  { cls: 'Price', id: '42', event: 'price_created', topic: 'keys' },
  { cls: 'Price', id: '0.5', event: 'price_updated', topic: 'keys' },
  { cls: 'Price', id: '43', event: 'price_destroyed', topic: 'keys' },
];

const kafkaTopic = (key: string): string => `${namespace}_${key}`;

before(async () => {
  const admin = new Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
    for (const setting of ["DateStyle = 'SQL, DMY'", 'IntervalStyle = postgres_verbose', 'extra_float_digits = 0', "TimeZone = 'Asia/Kathmandu'"]) {
      await admin.query(`ALTER DATABASE ${database} SET ${setting}`);
    }
    await admin.query(`ALTER ROLE CURRENT_USER IN DATABASE ${database} SET bytea_output = escape`);
  } finally {
    await admin.end();
  }
  const parsed = new URL(TEST_DATABASE_URL);
  parsed.pathname = `/${database}`;
  url = parsed.toString();
  pool = new Pool({ connectionString: url, max: 2 });
  for (const statement of [...schemaStatements(), ...dataStatements()]) await pool.query(statement);
  const relayPool = relayPoolFor('public', url);
  await migrate(relayPool, join(packageRoot(), 'sql'));
  await relayPool.end();
  for (const [key, [partitions]] of TOPICS) await createTopic(kafkaTopic(key), partitions);
  for (const row of ROWS) {
    await pool.query(
      `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, partition_key, changeset, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')`,
      [row.cls, row.id, row.event, kafkaTopic(row.topic), row.partitionKey ?? null, row.changeset === undefined ? null : JSON.stringify(row.changeset)],
    );
  }
});

after(async () => {
  await pool?.end();
  await deleteTopics([...TOPICS.keys()].map(kafkaTopic));
  const admin = new Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
});

interface Expected {
  readonly row: number;
  readonly skip?: boolean;
  readonly error?: string;
  readonly topic?: string;
  readonly key?: string;
  readonly partition?: number;
  readonly value?: string;
}

/** Runs the Ruby oracle over the outbox rows. */
function railsExpectations(): Expected[] {
  const parsed = new URL(url);
  const spec = {
    database: { host: parsed.hostname, port: Number(parsed.port || 5432), user: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password), database, schema: 'public' },
    models: rubyModels(),
    rows: ROWS.map((row, i) => {
      const target = row.publishes ?? { cls: row.cls, id: row.id, event: row.event };
      const [partitions, attribute] = TOPICS.get(row.topic) as readonly [number, string, readonly string[]];
      return {
        id: i,
        topic: kafkaTopic(row.topic),
        resource_class: target.cls,
        resource_id: target.id,
        event: target.event,
        // A dependency's row carries the dependency's key; the parent's comes from the parent.
        partition_key: row.publishes === undefined ? (row.partitionKey ?? null) : null,
        partition_attribute: attribute,
        partitions,
        include: includesOf(target.cls),
      };
    }),
  };
  const file = join(mkdtempSync(join(tmpdir(), 'dionysus-oracle-')), 'spec.json');
  writeFileSync(file, JSON.stringify(spec));
  const ruby = spawnSync('ruby', [join(packageRoot(), 'test', 'oracle', 'rails_oracle.rb'), file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(ruby.status, 0, `the Ruby oracle failed (scripts/oracle-deps.sh installs ruby-activerecord, ruby-activesupport, ruby-pg):\n${ruby.stderr}${ruby.error?.message ?? ''}`);
  return ruby.stdout.trim().split('\n').map((line) => JSON.parse(line) as Expected);
}

const render = (m: { topic?: string; key?: string | null; partition?: number; value?: string }): string =>
  `${m.topic} [${m.partition}] ${m.key}\n    ${m.value}`;

test('the relay sends every corpus record byte for byte as ActiveRecord 6.1 + ActiveSupport 6.1 (the gem) would', { timeout: 240_000 }, async () => {
  const run = await runUntilIdle(writeTopicsFile(topicsYaml(namespace)), { DATABASE_URL: url, DATABASE_SCHEMA: 'public' }, 120_000);
  assert.equal(run.code, 0, run.output);

  const expected = railsExpectations();
  const messages = expected.filter((e) => e.skip !== true && e.error === undefined);
  const perTopic = new Map<string, number>();
  for (const e of messages) perTopic.set(e.topic as string, (perTopic.get(e.topic as string) ?? 0) + 1);
  const consumed: ConsumedMessage[] = [];
  for (const key of TOPICS.keys()) consumed.push(...(await consumeAll(kafkaTopic(key), perTopic.get(kafkaTopic(key)) ?? 0, { settleMs: 1000, timeoutMs: 30_000 })));

  const actual = consumed.map((m) => render({ topic: m.topic, key: m.key, partition: m.partition, value: m.value?.toString('utf8') }));
  const unmatched = [...actual];
  const differences: string[] = [];
  for (const e of messages) {
    const wanted = render(e);
    const at = unmatched.indexOf(wanted);
    if (at === -1) {
      const sameKey = unmatched.filter((a) => a.startsWith(`${e.topic} `) && a.includes(` ${e.key}\n`));
      differences.push(`row ${e.row} (${ROWS[e.row]?.cls} ${ROWS[e.row]?.id}): Rails sends\n  ${wanted}\nthe relay sent ${sameKey.length === 0 ? 'nothing with that key' : `\n  ${sameKey.join('\n  ')}`}`);
    } else {
      unmatched.splice(at, 1);
    }
  }
  for (const extra of unmatched) differences.push(`the relay sent a message Rails would not:\n  ${extra}`);

  // Rows the gem could not publish fail in the relay too, and no others.
  const failed = await pool.query<{ resource_class: string; resource_id: string; event_name: string; error_class: string | null; error_message: string | null; published: boolean }>(
    'SELECT resource_class, resource_id, event_name, error_class, error_message, published_at IS NOT NULL AS published FROM dionysus_outboxes ORDER BY id',
  );
  let failuresCompared = 0;
  failed.rows.forEach((state, i) => {
    const rails = expected.find((e) => e.row === i);
    const railsFails = rails?.error !== undefined;
    if (railsFails) failuresCompared += 1;
    if (railsFails !== (state.error_class !== null) || state.published === railsFails) {
      differences.push(
        `row ${i} (${state.resource_class} ${state.resource_id} ${state.event_name}): Rails ${railsFails ? `fails (${rails?.error})` : 'publishes it'}, ` +
          `the relay ${state.error_class === null ? (state.published ? 'published it' : 'left it pending') : `failed it: ${state.error_class} ${state.error_message}`}`,
      );
    }
  });

  console.log(`oracle: ${messages.length} messages compared byte for byte (value, key, partition), ${failuresCompared} rows Rails cannot serialize, ` +
    `${expected.filter((e) => e.skip === true).length} rows the gem skips; ${differences.length} difference(s)`);
  assert.ok(messages.length >= 30, `the corpus should give at least 30 messages, got ${messages.length}`);
  assert.deepEqual(differences, [], `${differences.length} difference(s):\n${differences.join('\n')}`);
  assert.equal(failuresCompared, FAILING_SAMPLE_ROWS.size, 'the corpus rows Rails cannot serialize, and only those');
});
