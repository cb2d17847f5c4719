import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { migrate } from '../../../src/postgres/migrator';
import { packageRoot } from '../../../src/package-root';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { usersTopicsYaml } from '../../helpers/topics-yaml';
import { baseRelayEnv, cliPath, writeTopicsFile } from '../../helpers/relay-process';

// `dionysus-relay check`: passes on a good setup; reports a broken serializer, a missing publishing
// index, a missing topic and pending rows nobody can publish, each on its own line.

let db: TestDatabase;
const users = new UsersFixture('check', { partitions: 3 });
const { namespace, topic: usersTopic } = users;

before(async () => {
  db = await users.setUp();
  await db.query(`CREATE TABLE audit_logs (id bigint NOT NULL, message text)`);
});

after(async () => {
  await users.tearDown();
});

function check(yaml: string, env: Record<string, string> = {}): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [cliPath(), 'check', '--topics', writeTopicsFile(yaml)], {
    env: baseRelayEnv({ ...db.relayEnv(), ...env }),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

const GOOD = usersTopicsYaml(namespace);

test('a good setup passes and reports partition counts', () => {
  const r = check(GOOD);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, new RegExp(`kafka: ${usersTopic} has 3 partition\\(s\\)`));
  assert.match(r.out, /publishing index index_dionysus_outboxes_publishing_idx present/);
  // The gem's seven convenience indexes, each written by every publish mark, with their measured price.
  const cost = /every publish mark writes into 7 index\(es\) of \S+ besides its primary key, largest first: (.*)\. Each cost about [\d.]+ µs of PostgreSQL CPU per published row in the benchmark .*docs\/benchmarks\.md#what-the-outbox-schema-costs/.exec(r.out);
  assert.ok(cost, r.out);
  assert.match(cost[1] as string, /index_dionysus_outboxes_on_published_at \(\d+ kB\)/);
  assert.ok(!(cost[1] as string).includes('publishing_idx'), cost[1]);
  assert.match(r.out, /crash tracking and the frozen-relay guard are on/);
  assert.match(r.out, /one relay holds up to 2000 advisory locks \(batch × in flight\), \d+% of the lock table \(\d+ slots\)/);
  assert.match(r.out, /check passed/);
});

test('with active slots: the lock budget per active relay, what the batches run with, the slots held; no room is a problem', () => {
  const r = check(GOOD, { RELAY_ACTIVE_SLOTS: '4', RELAY_LOCK_TABLE_SHARE: '50' });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /postgres: 0 of RELAY_ACTIVE_SLOTS=4 active slots held now; each active relay may hold \d+ advisory locks \(50% of the lock table's \d+ entries \/ 4\): batches of \d+ × 2 in flight/);
  assert.doesNotMatch(r.out, /one relay holds up to/);
  const none = check(GOOD, { RELAY_ACTIVE_SLOTS: '1000', RELAY_LOCK_TABLE_SHARE: '1' });
  assert.equal(none.code, 1, none.out);
  assert.match(none.out, /RELAY_ACTIVE_SLOTS=1000 active relays leaves \d+ locks per relay/);
});

test('each problem gets its own line', async () => {
  await db.query('DROP INDEX index_dionysus_outboxes_publishing_idx');
  await insertOutboxRow(db, { resourceClass: 'Ghost', resourceId: 1, event: 'ghost_updated', topic: usersTopic });
  await insertOutboxRow(db, { resourceClass: 'Order', resourceId: 1, event: 'order_updated', topic: 'someone_elses_topic' });
  const r = check(`${GOOD}
  orders:
    models:
      Order:
        sql: SELECT id, totl FROM users WHERE id = ANY($1::bigint[])
      AuditLog:
        sql: SELECT id, message FROM audit_logs WHERE id = ANY($1::bigint[])
`);
  assert.equal(r.code, 1, r.out);
  const problems = r.out.split('\n').filter((l) => l.startsWith('PROBLEM '));
  assert.ok(problems.some((l) => /topics\.orders\.models\.Order: column "totl" does not exist/.test(l)), r.out);
  assert.ok(problems.some((l) => /has no partial index \(topic, created_at\) WHERE published_at IS NULL/.test(l)), r.out);
  assert.ok(problems.some((l) => new RegExp(`kafka: ${namespace}_orders: .*does not exist`).test(l)), r.out);
  assert.ok(problems.some((l) => /1 pending row\(s\) of Ghost on .*no serializer or dependency/.test(l)), r.out);
  assert.match(r.out, /pending row\(s\) of topic someone_elses_topic, which this configuration does not name/);
  assert.ok(problems.some((l) => /models\.AuditLog: the serializer scans audit_logs sequentially/.test(l)), r.out);
  assert.match(r.out, /check failed: 5 problem\(s\)/);
});

// A strict topic without the optional retry-wait index is told the cost and the command; with it,
// the index is named. (Runs last: it adds the index to this file's schema.)
test('strict topics: check says whether the optional retry-wait index exists', async () => {
  const strict = GOOD.replace('    partition_key: id\n', '    partition_key: id\n    ordering: strict\n');
  const without = check(strict);
  assert.match(without.out, new RegExp(`strict topic\\(s\\) ${usersTopic}: without the optional retry-wait index .*migrate --with strict_retry_index`), without.out);
  await migrate(db.pool, join(packageRoot(), 'sql'), ['strict_retry_index']);
  const withIndex = check(strict);
  assert.match(withIndex.out, new RegExp(`strict topic\\(s\\) ${usersTopic}: held keys found through dionysus_relay_retry_waiting_idx`), withIndex.out);
});
