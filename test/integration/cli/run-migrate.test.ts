import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Client, Pool } from 'pg';
import { insertOutboxRow } from '../../helpers/database';
import { TEST_DATABASE_URL } from '../../helpers/env';
import { consumeAll, createTopic, deleteTopics, uniqueNamespace } from '../../helpers/kafka';
import { runUntilIdle, writeTopicsFile } from '../../helpers/relay-process';
import { usersTopicsYaml } from '../../helpers/topics-yaml';

// `run --migrate` (RELAY_MIGRATE=true), for pods without a migration job: every replica migrates before publishing,
// all at once, into a schema that does not exist yet. Each migration is applied exactly once and
// every relay starts; then the rows are published.

const namespace = uniqueNamespace('runmig');
const schema = namespace.toLowerCase();
const topic = `${namespace}_users`;
/** A serializer without a table: the relays start on a schema holding nothing but their own tables. */
const topicsFile = writeTopicsFile(usersTopicsYaml(namespace, 'SELECT id FROM unnest($1::bigint[]) AS id'));
const REPLICAS = 4;

after(async () => {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
  await deleteTopics([topic]);
});

test('replicas started together with --migrate on a schema that does not exist: each migration once, every relay runs, rows publish', async () => {
  await createTopic(topic, 1);
  // RELAY_MIGRATE=true is `run --migrate` as a setting (what a chart's extraEnv can set).
  const env = { DATABASE_URL: TEST_DATABASE_URL, DATABASE_SCHEMA: schema, RELAY_MIGRATE: 'true' };
  const runs = await Promise.all(Array.from({ length: REPLICAS }, () => runUntilIdle(topicsFile, env, 90_000)));
  const pool = new Pool({ connectionString: TEST_DATABASE_URL, max: 2, options: `-c search_path=${schema}` });
  try {
    for (const run of runs) assert.equal(run.code, 0, run.output);
    const logged = runs.map((run) => /--migrate: (\d+) migrations applied/.exec(run.output)?.[1]);
    assert.ok(logged.every((n) => n !== undefined), runs.map((r) => r.output).join('\n'));
    const applied = (await pool.query<{ name: string; n: number }>(`SELECT name, count(*)::int AS n FROM dionysus_relay_schema_migrations GROUP BY name ORDER BY name`)).rows;
    assert.ok(applied.length >= 4, JSON.stringify(applied));
    assert.ok(applied.every((m) => m.n === 1 && !m.name.startsWith('optional/')), JSON.stringify(applied));
    // Applied by one replica; the others found them present.
    assert.equal(logged.map(Number).reduce((a, b) => a + b, 0), applied.length);

    const db = { query: async (text: string, values?: unknown[]) => (await pool.query(text, values)).rows as Array<Record<string, unknown>> };
    for (const id of [1, 2, 3]) await insertOutboxRow(db, { resourceClass: 'User', resourceId: id, event: 'user_created', topic });
    const again = await runUntilIdle(topicsFile, env, 60_000);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /--migrate: 0 migrations applied/);
    const pending = await pool.query(`SELECT id FROM dionysus_outboxes WHERE published_at IS NULL`);
    assert.equal(pending.rowCount, 0);
  } finally {
    await pool.end();
  }
  const messages = await consumeAll(topic, 3);
  assert.deepEqual(messages.map((m) => m.key).sort(), ['User:1', 'User:2', 'User:3']);
});
