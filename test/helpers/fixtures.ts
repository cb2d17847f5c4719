import assert from 'node:assert/strict';
import { insertOutboxRow, type TestDatabase } from './database';
import { createTopic, type ConsumedMessage } from './kafka';
import { runUntilIdle } from './relay-process';

/**
 * The users most tests publish (usersTopicsFile's serializer): `users (id, name)` with ids
 * 1..count, one `user_updated` outbox row each on `topic`, and the topic with one partition.
 */
export async function seedUsers(db: TestDatabase, topic: string, count: number): Promise<void> {
  await db.query(`CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL)`);
  await db.query(`INSERT INTO users SELECT g, 'user ' || g FROM generate_series(1, $1::int) g`, [count]);
  for (let id = 1; id <= count; id++) await insertOutboxRow(db, { resourceClass: 'User', resourceId: id, event: 'user_updated', topic });
  await createTopic(topic, 1);
}

/** The bookkeeping columns of one outbox row, read with the plain (default-parsing) test pool. */
export interface OutboxRowState {
  id: string;
  resource_class: string;
  resource_id: string;
  event_name: string;
  published_at: Date | null;
  failed_at: Date | null;
  retry_at: Date | null;
  error_class: string | null;
  error_message: string | null;
  attempts: number;
}

/** Every outbox row of `topic`, in id order. */
export async function outboxRowsOf(db: TestDatabase, topic: string): Promise<OutboxRowState[]> {
  const rows = await db.query<Record<string, unknown>>(
    `SELECT id::text AS id, resource_class, resource_id, event_name, published_at, failed_at, retry_at,
            error_class, error_message, attempts
       FROM dionysus_outboxes WHERE topic = $1 ORDER BY id`,
    [topic],
  );
  return rows as unknown as OutboxRowState[];
}

/**
 * Asserts that `topic` has exactly `expectedCount` rows and that every one of them is published
 * the way the gem marks a success (contract §1): published_at set, failed_at / retry_at /
 * error_class / error_message NULL, attempts untouched (0 for rows that never failed).
 */
export async function assertAllPublishedCleanly(db: TestDatabase, topic: string, expectedCount: number): Promise<void> {
  const rows = await outboxRowsOf(db, topic);
  assert.equal(rows.length, expectedCount, `outbox rows of ${topic}`);
  for (const row of rows) {
    const what = `row ${row.id} (${row.event_name} ${row.resource_class}:${row.resource_id})`;
    assert.ok(row.published_at instanceof Date, `${what}: published_at must be set, got ${String(row.published_at)}`);
    assert.equal(row.error_class, null, `${what}: error_class (error_message: ${String(row.error_message)})`);
    assert.equal(row.error_message, null, `${what}: error_message`);
    assert.equal(row.failed_at, null, `${what}: failed_at`);
    assert.equal(row.retry_at, null, `${what}: retry_at`);
    assert.equal(row.attempts, 0, `${what}: attempts`);
  }
}

/** Runs the real CLI (`run --exit-when-idle`) once and asserts a clean exit. */
export async function runRelayUntilIdle(db: TestDatabase, topicsFile: string): Promise<string> {
  const run = await runUntilIdle(topicsFile, db.relayEnv());
  assert.equal(run.code, 0, `relay exit code; output:\n${run.output}`);
  return run.output;
}

/** Messages in partition, then offset order (Kafka order within a partition). */
export function inLogOrder(messages: readonly ConsumedMessage[]): ConsumedMessage[] {
  return [...messages].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** The messages carrying `key`, in offset order (one key always lands on one partition). */
export function messagesWithKey(messages: readonly ConsumedMessage[], key: string): ConsumedMessage[] {
  return inLogOrder(messages.filter((m) => m.key === key));
}

/** The value as UTF-8 text (`<null>` for a real Kafka null), for byte-exact comparisons. */
export function valueText(message: ConsumedMessage | undefined): string {
  if (message === undefined) return '<no message>';
  return message.value === null ? '<null>' : message.value.toString('utf8');
}
