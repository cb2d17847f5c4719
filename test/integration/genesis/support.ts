import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { TestDatabase } from '../../helpers/database';
import type { ConsumedMessage } from '../../helpers/kafka';
import { baseRelayEnv, cliPath } from '../../helpers/relay-process';

// Helpers of the genesis integration tests: the users fixture (bulk-inserted), the CLI run to its
// end, decoded messages, and waiting on the progress table.

/**
 * `count` users: account_id = id % 13, updated_at = 2024-02-01 00:00 + id minutes, every 10th one
 * soft-deleted (canceled_at set). One statement, so 10,000 rows take milliseconds.
 */
export async function insertUsers(db: TestDatabase, count: number): Promise<void> {
  await db.query(`CREATE TABLE users (
    id bigint PRIMARY KEY, name text NOT NULL, account_id bigint,
    created_at timestamp(6) NOT NULL, updated_at timestamp(6) NOT NULL, canceled_at timestamp(6))`);
  await db.query(
    `INSERT INTO users
     SELECT g, 'user ' || g, g % 13,
            timestamp '2024-01-01' + g * interval '1 minute',
            timestamp '2024-02-01' + g * interval '1 minute',
            CASE WHEN g % 10 = 0 THEN timestamp '2024-03-01' END
       FROM generate_series(1, $1::int) g`,
    [count],
  );
}

export const USERS_SQL = 'SELECT id, name, account_id, created_at, updated_at, canceled_at FROM users WHERE id = ANY($1::bigint[])';

export interface GenesisExit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `dionysus-relay genesis ...` to its end. */
export function runGenesis(db: TestDatabase, args: readonly string[], timeoutMs = 120_000): GenesisExit {
  const result = spawnSync(process.execPath, [cliPath(), 'genesis', ...args], {
    env: baseRelayEnv(db.relayEnv()),
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface DecodedMessage {
  topic: string;
  partition: number;
  key: string | null;
  event: string;
  modelName: string;
  record: Record<string, unknown>;
}

/** The gem's envelope, unpacked; asserts one event with one record, as consumers require. */
export function decode(messages: readonly ConsumedMessage[]): DecodedMessage[] {
  return messages.map((m) => {
    const body = JSON.parse(m.value?.toString('utf8') ?? 'null') as { message: Array<{ event: string; model_name: string; data: unknown[] }> };
    assert.equal(body.message.length, 1);
    const [event] = body.message;
    assert.equal(event?.data.length, 1);
    return {
      topic: m.topic,
      partition: m.partition,
      key: m.key,
      event: event?.event as string,
      modelName: event?.model_name as string,
      record: event?.data[0] as Record<string, unknown>,
    };
  });
}

/** Number of messages per key. */
export function countByKey(messages: readonly { key: string | null }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) counts.set(String(m.key), (counts.get(String(m.key)) ?? 0) + 1);
  return counts;
}

export interface RunRow {
  id: string;
  topic: string;
  status: string;
  sent: number;
  skipped: number;
  last_id: string | null;
  total_estimate: number | null;
  error: string | null;
}

export async function runRows(db: TestDatabase): Promise<RunRow[]> {
  return db.query<RunRow & Record<string, unknown>>(
    `SELECT id::text AS id, topic, status, sent::int AS sent, skipped::int AS skipped, last_id, total_estimate::int AS total_estimate, error
       FROM dionysus_relay_genesis_runs ORDER BY id`,
  );
}

/** Polls the progress table (every 20 ms) until a run satisfies `ready`; fails after `timeoutMs`. */
export async function waitForRun(db: TestDatabase, ready: (run: RunRow) => boolean, timeoutMs = 60_000): Promise<RunRow> {
  const deadline = Date.now() + timeoutMs;
  let last: RunRow[] = [];
  while (Date.now() < deadline) {
    last = await runRows(db);
    const found = last.find(ready);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no genesis run got ready within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}
