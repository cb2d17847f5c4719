import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { migrate } from '../src/postgres/migrator';
import { createPool } from '../src/postgres/pool';
import { packageRoot } from '../src/package-root';
import type { Sizes } from './options';

/**
 * The benchmark's database: a dedicated schema with dionysus_outboxes migrated by the project's
 * own migrator (all eight of the gem's indexes), a large published history, and the two tables the
 * serializer joins (users, accounts). The fixture is expensive to build (a million rows through
 * eight indexes), so it is kept between runs and only rebuilt when asked, when its sizes differ,
 * or when FIXTURE_VERSION changes. Rows a run adds (id above the history) are deleted between
 * scenarios, so every scenario starts from the same table.
 */
const FIXTURE_VERSION = 1;

export const BENCH_DATABASE_URL =
  process.env['BENCH_DATABASE_URL'] ?? process.env['TEST_DATABASE_URL'] ?? 'postgres://dionysus:dionysus@127.0.0.1:5432/dionysus_relay';

export interface FixtureInfo {
  readonly schema: string;
  readonly historyRows: number;
  readonly historyMaxId: number;
  readonly users: number;
  readonly accounts: number;
  /** Seconds spent creating the fixture in this run; 0 when it was reused. */
  readonly buildSeconds: number;
  readonly reused: boolean;
}

/** A plain pool on the bench schema (UTC, search_path), for the harness's own SQL. */
export function harnessPool(schema: string, max = 4): Pool {
  return new Pool({
    connectionString: BENCH_DATABASE_URL,
    max,
    application_name: 'dionysus-relay-bench',
    options: `-c search_path=${schema},public -c TimeZone=UTC -c statement_timeout=0`,
  });
}

/**
 * The serializer of User: users joined with accounts, ~15 attributes and a link to the account
 * (`relationships:` in the topics file), about 600 bytes a message.
 */
export const USER_SERIALIZER_SQL =
  'SELECT u.id, u.account_id, u.email, u.first_name, u.last_name, u.phone, u.locale, u.time_zone, u.role, u.bio, ' +
  'u.version, a.name AS account_name, a.plan AS account_plan, a.currency, a.country, u.created_at, u.updated_at ' +
  'FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.id = ANY($1::bigint[])';

export function writeTopicsFile(dir: string, namespace: string, name = 'topics.yaml', ordering: 'snapshot' | 'strict' = 'snapshot'): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `namespace: ${namespace}
topics:
  users:
    genesis_replica: false
    ordering: ${ordering}
    models:
      User:
        sql: "${USER_SERIALIZER_SQL}"
        relationships:
          account: { has_one: Account }
`,
  );
  return file;
}

export async function ensureFixture(schema: string, sizes: Sizes, rebuild: boolean, log: (line: string) => void): Promise<FixtureInfo> {
  const admin = new Client({ connectionString: BENCH_DATABASE_URL });
  await admin.connect();
  try {
    const wanted = { version: FIXTURE_VERSION, historyRows: sizes.historyRows, users: sizes.users, accounts: sizes.accounts };
    const existing = await readMeta(admin, schema);
    if (!rebuild && existing !== undefined && sameFixture(existing, wanted)) {
      log(`fixture: reusing schema ${schema} (${existing.historyRows} history rows, ${existing.users} users)`);
      // Migrations added since the fixture was built (crash tracking, its frozen-relay guard) are
      // part of the relay under test: without them it would run with those features off.
      await migrateSchema(schema);
      return { schema, ...existing, buildSeconds: 0, reused: true };
    }
    log(existing === undefined ? `fixture: building schema ${schema}` : `fixture: rebuilding schema ${schema}`);
    const started = Date.now();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await migrateSchema(schema);
    await admin.query(`SET search_path = "${schema}", public`);
    await admin.query('SET TimeZone = UTC');
    await createResourceTables(admin, sizes);
    log(`fixture: ${sizes.accounts} accounts and ${sizes.users} users in ${secondsSince(started)} s`);
    await insertHistory(admin, sizes);
    log(`fixture: ${sizes.historyRows} published history rows in ${secondsSince(started)} s`);
    await admin.query('VACUUM (ANALYZE) dionysus_outboxes, users, accounts');
    const maxId = Number((await admin.query('SELECT coalesce(max(id), 0) AS m FROM dionysus_outboxes')).rows[0].m);
    const meta = { ...wanted, historyMaxId: maxId };
    await admin.query('CREATE TABLE bench_meta (fixture jsonb NOT NULL)');
    await admin.query('INSERT INTO bench_meta (fixture) VALUES ($1)', [JSON.stringify(meta)]);
    const buildSeconds = (Date.now() - started) / 1000;
    log(`fixture: ready in ${buildSeconds.toFixed(1)} s`);
    return { schema, historyRows: meta.historyRows, historyMaxId: maxId, users: meta.users, accounts: meta.accounts, buildSeconds, reused: false };
  } finally {
    await admin.end();
  }
}

interface Meta {
  version: number;
  historyRows: number;
  historyMaxId: number;
  users: number;
  accounts: number;
}

async function readMeta(admin: Client, schema: string): Promise<Meta | undefined> {
  const found = await admin.query('SELECT to_regclass($1) AS t', [`"${schema}".bench_meta`]);
  if (found.rows[0].t === null) return undefined;
  const rows = await admin.query(`SELECT fixture FROM "${schema}".bench_meta`);
  return rows.rows[0]?.fixture as Meta | undefined;
}

function sameFixture(a: Meta, b: Omit<Meta, 'historyMaxId'>): boolean {
  return a.version === b.version && a.historyRows === b.historyRows && a.users === b.users && a.accounts === b.accounts;
}

/** The project's migrator, on a relay-style pool whose search_path starts with the schema. */
async function migrateSchema(schema: string): Promise<void> {
  const pool = createPool({
    url: BENCH_DATABASE_URL,
    schema,
    table: 'dionysus_outboxes',
    poolSize: 2,
    statementTimeoutMs: 0,
    idleInTransactionTimeoutMs: 0,
    sslCaFile: '',
  });
  try {
    await migrate(pool, join(packageRoot(), 'sql'));
  } finally {
    await pool.end();
  }
}

async function createResourceTables(admin: Client, sizes: Sizes): Promise<void> {
  await admin.query(`CREATE TABLE accounts (
      id bigint PRIMARY KEY, name varchar NOT NULL, plan varchar NOT NULL, currency varchar NOT NULL,
      country varchar NOT NULL, created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);
  await admin.query(
    `INSERT INTO accounts
     SELECT g, 'Account ' || g || ' Holidays & Rentals', (ARRAY['free','starter','pro','enterprise'])[1 + g % 4],
            (ARRAY['EUR','USD','GBP','CHF'])[1 + g % 4], (ARRAY['FR','US','GB','CH','DE','ES'])[1 + g % 6],
            now() AT TIME ZONE 'UTC' - interval '3 years' + g * interval '1 minute',
            now() AT TIME ZONE 'UTC' - interval '1 day'
       FROM generate_series(1, $1::int) g`,
    [sizes.accounts],
  );
  await admin.query(`CREATE TABLE users (
      id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts (id), email varchar NOT NULL,
      first_name varchar NOT NULL, last_name varchar NOT NULL, phone varchar, locale varchar NOT NULL,
      time_zone varchar NOT NULL, role varchar NOT NULL, bio text, version integer NOT NULL DEFAULT 0,
      created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL)`);
  // bio: 160 characters of hex, so a message lands at about 600 bytes.
  await admin.query(
    `INSERT INTO users
     SELECT g, 1 + g % $2::int, 'user' || g || '@example-rentals.com', 'Firstname' || g, 'Lastname-' || md5(g::text),
            '+33 6 ' || lpad((g % 100000000)::text, 8, '0'), (ARRAY['en','fr','de','es'])[1 + g % 4],
            (ARRAY['Europe/Paris','America/New_York','Europe/London','Asia/Tokyo'])[1 + g % 4],
            (ARRAY['owner','manager','staff'])[1 + g % 3],
            md5(g::text || 'a') || md5(g::text || 'b') || md5(g::text || 'c') || md5(g::text || 'd') || md5(g::text || 'e'),
            0, now() AT TIME ZONE 'UTC' - interval '2 years' + g * interval '1 second',
            now() AT TIME ZONE 'UTC' - interval '1 day'
       FROM generate_series(1, $1::int) g`,
    [sizes.users, sizes.accounts],
  );
}

/**
 * The published history, in one INSERT ... SELECT generate_series: four models on four topics
 * over the last 30 days, published a second or two after creation, 1% with a past failure.
 */
async function insertHistory(admin: Client, sizes: Sizes): Promise<void> {
  await admin.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, partition_key,
                                    published_at, attempts, created_at, updated_at)
     SELECT (ARRAY['User','Account','Booking','BookingsFee'])[1 + g % 4],
            (1 + g % $2::int)::text,
            (ARRAY['user','account','booking','bookings_fee'])[1 + g % 4] || (ARRAY['_updated','_updated','_created','_destroyed'])[1 + (g / 4) % 4],
            'bench_history_' || (ARRAY['users','accounts','bookings','bookings'])[1 + g % 4],
            (1 + g % $3::int)::text,
            t.created + (1 + random()) * interval '1 second',
            CASE WHEN g % 100 = 0 THEN 1 ELSE 0 END,
            t.created, t.created
       FROM generate_series(1, $1::int) g,
            LATERAL (SELECT now() AT TIME ZONE 'UTC' - interval '30 days' + (g::float8 / $1::int) * interval '30 days' AS created) t`,
    [sizes.historyRows, sizes.users, sizes.accounts],
  );
}

/** Deletes what earlier scenarios added and vacuums, so each scenario starts from the same table. */
export async function resetOutbox(pool: Pool, fixture: FixtureInfo): Promise<void> {
  await pool.query('DELETE FROM dionysus_outboxes WHERE id > $1', [fixture.historyMaxId]);
  await pool.query('VACUUM (ANALYZE) dionysus_outboxes, users');
}

/**
 * `count` pending rows on `topic`, one per user starting at `firstUser` (so every message key of
 * the set is distinct and duplicates are visible), created over the last five minutes, in one
 * INSERT ... SELECT generate_series. partition_key is written as the gem writes it (account id).
 */
export async function insertPending(pool: Pool, topic: string, count: number, firstUser = 1): Promise<void> {
  await pool.query(
    `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, partition_key, created_at, updated_at)
     SELECT 'User', u.id::text, 'user_updated', $1, u.account_id::text,
            now() AT TIME ZONE 'UTC' - interval '5 minutes' + (g::float8 / $2::int) * interval '5 minutes',
            now() AT TIME ZONE 'UTC'
       FROM generate_series(1, $2::int) g JOIN users u ON u.id = $3::int + g - 1
      ORDER BY g`,
    [topic, count, firstUser],
  );
  await pool.query('ANALYZE dionysus_outboxes');
}

export async function dropSchema(schema: string): Promise<void> {
  const admin = new Client({ connectionString: BENCH_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end();
  }
}

function secondsSince(startMs: number): string {
  return ((Date.now() - startMs) / 1000).toFixed(1);
}
