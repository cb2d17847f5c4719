import assert from 'node:assert/strict';
import { createTestDatabase, insertOutboxRow, type TestDatabase } from './database';
import { createTopic, deleteTopics, uniqueNamespace, type ConsumedMessage } from './kafka';
import { runUntilIdle, usersTopicsFile } from './relay-process';

export interface UsersFixtureOptions {
  /** Partitions of `<namespace>_users` (default 1). */
  readonly partitions?: number;
  /** Topic-level Kafka configuration, e.g. `{ 'max.message.bytes': '1000' }`. */
  readonly topicConfig?: Record<string, string>;
  /** Column definitions after `id bigint PRIMARY KEY, name text NOT NULL`. */
  readonly extraColumns?: string;
  /** Users 1..n inserted by setUp(), named `user <id>`. */
  readonly users?: number;
  /** With `users`: one `user_updated` outbox row per user, in id order. */
  readonly outboxRows?: boolean;
}

/**
 * The set-up most relay tests share: a schema of their own holding `users (id, name)` and the
 * outbox, a topic `<namespace>_users`, and usersTopicsFile's serializer over them. The names exist
 * at once (for module-level constants); setUp() creates the database and the topic, tearDown()
 * removes both.
 */
export class UsersFixture {
  readonly namespace: string;
  readonly topic: string;
  private database: TestDatabase | undefined;

  constructor(
    private readonly prefix: string,
    private readonly options: UsersFixtureOptions = {},
  ) {
    this.namespace = uniqueNamespace(prefix);
    this.topic = `${this.namespace}_users`;
  }

  get db(): TestDatabase {
    if (this.database === undefined) throw new Error(`UsersFixture(${this.prefix}): setUp() first`);
    return this.database;
  }

  async setUp(): Promise<TestDatabase> {
    const db = await createTestDatabase(this.prefix);
    this.database = db;
    const extra = this.options.extraColumns === undefined ? '' : `, ${this.options.extraColumns}`;
    await db.query(`CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL${extra})`);
    const count = this.options.users ?? 0;
    if (count > 0) await db.query(`INSERT INTO users (id, name) SELECT g, 'user ' || g FROM generate_series(1, $1::int) g`, [count]);
    if (this.options.outboxRows === true) {
      for (let id = 1; id <= count; id++) await insertOutboxRow(db, { resourceClass: 'User', resourceId: id, event: 'user_updated', topic: this.topic });
    }
    await createTopic(this.topic, this.options.partitions ?? 1, this.options.topicConfig);
    return db;
  }

  /** The topics file of usersTopicsFile for this namespace. */
  topicsFile(sql?: string, options?: Parameters<typeof usersTopicsFile>[2]): string {
    return usersTopicsFile(this.namespace, sql, options);
  }

  async tearDown(): Promise<void> {
    await deleteTopics([this.topic]);
    await this.database?.drop();
  }
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
