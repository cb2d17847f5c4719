import type { Pool, PoolClient, QueryResult } from 'pg';
import type { ClaimedRow } from '../domain/outbox-row';
import type { KeyedRow } from '../domain/strict-order';
import { RelayError, errorMessage } from '../errors';
import { beginAndClaimText, outboxStatements, type OnPublish, type OutboxStatements } from './outbox-sql';

/** A failed row's bookkeeping, computed by the retry schedule. */
export interface FailureMark {
  readonly id: string;
  readonly errorClass: string;
  readonly errorMessage: string;
  readonly delayMs: number;
  readonly giveUp: boolean;
}

/** error_message is varchar without limit in the gem; keep it readable in a console. */
const ERROR_MESSAGE_MAX_CHARS = 2000;

/**
 * One claimed batch: an open transaction holding row locks on its rows until `commit()`.
 * Exactly one of commit()/abandon() must be called; both release the connection.
 */
export class ClaimedBatch {
  private done = false;
  /** Last time the claim session answered (claim, locks, keep-alive). */
  private lastContactAt = Date.now();

  constructor(
    private readonly client: PoolClient,
    private readonly sql: OutboxStatements,
    readonly rows: readonly ClaimedRow[],
    /** The claim transaction's id (txid_current()), for the in-flight registration. */
    readonly claimXid: string | undefined,
  ) {}

  async markPublished(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.client.query({ name: this.sql.markPublished.name, text: this.sql.markPublished.text, values: [ids] });
  }

  /**
   * Marks `ids` published and commits in one round trip (see markPublishedAndCommit in
   * outbox-sql.ts); two when the ids cannot be inlined. Like commit(), releases the connection.
   */
  async markPublishedAndCommit(ids: readonly string[]): Promise<void> {
    if (this.done) return;
    const text = this.sql.markPublishedAndCommit(ids);
    if (text === undefined) {
      await this.markPublished(ids);
      await this.commit();
      return;
    }
    await this.finish(text);
  }

  async markFailed(marks: readonly FailureMark[]): Promise<void> {
    if (marks.length === 0) return;
    await this.client.query({
      name: this.sql.markFailed.name,
      text: this.sql.markFailed.text,
      values: [
        marks.map((m) => m.id),
        marks.map((m) => m.errorClass),
        marks.map((m) => truncate(m.errorMessage)),
        marks.map((m) => m.delayMs),
        marks.map((m) => m.giveUp),
      ],
    });
  }

  /**
   * Advisory locks on the batch's resources until commit (see outbox-sql.ts lockResources).
   * Returns the keys another batch holds right now (`busy`: not waited for) and, with
   * `guardInstance` (this process's instance id), the keys a live but frozen relay may still
   * publish (`held`, lockResourcesGuarded). The caller must not publish either now.
   */
  async lockResources(keys: readonly string[], guardInstance?: string): Promise<{ busy: ReadonlySet<string>; held: ReadonlySet<string> }> {
    if (keys.length === 0) return { busy: new Set(), held: new Set() };
    const ordered = [...new Set(keys)].sort();
    const sentAt = Date.now();
    const statement = guardInstance === undefined ? this.sql.lockResources : this.sql.lockResourcesGuarded;
    const result = await this.client.query<{ busy: string[]; held?: string[] }>({
      name: statement.name,
      text: statement.text,
      values: guardInstance === undefined ? [ordered] : [ordered, guardInstance],
    });
    this.lastContactAt = Math.max(this.lastContactAt, sentAt);
    return { busy: new Set(result.rows[0]?.busy ?? []), held: new Set(result.rows[0]?.held ?? []) };
  }

  /**
   * For a strict claim: the topic's rows not yet published or given up, from the oldest to the
   * claim's newest, in claim order (outbox-sql strictPending), for keyHeads in strict-order.ts.
   */
  async strictPending(topic: string): Promise<KeyedRow[]> {
    if (this.rows.length === 0) return [];
    // The newest claimed row's created_at, rounded up to the next millisecond (createdAtMs keeps
    // microseconds as a fraction): the list may run a little past the claim, never stop short.
    const newestMs = Math.max(...this.rows.map((r) => r.createdAtMs));
    const bound = new Date(Math.floor(newestMs) + 1).toISOString();
    const sentAt = Date.now();
    const result = await this.client.query<{ id: string; resource_class: string; resource_id: string; partition_key: string | null }>({
      name: this.sql.strictPending.name,
      text: this.sql.strictPending.text,
      values: [topic, bound],
    });
    this.lastContactAt = Math.max(this.lastContactAt, sentAt);
    return result.rows.map((r) => ({ id: String(r.id), resourceClass: r.resource_class, resourceId: r.resource_id, partitionKey: r.partition_key }));
  }

  /** Writes outbox rows for an observer fan-out in this batch's transaction. */
  async insertFanout(resourceClass: string, ids: readonly string[], eventName: string, topic: string): Promise<void> {
    await this.client.query({ name: this.sql.insertFanout.name, text: this.sql.insertFanout.text, values: [resourceClass, ids, eventName, topic] });
  }

  /**
   * Keeps the claim's session from counting as idle while the batch waits for delivery reports
   * (a broker outage can last longer than idle_in_transaction_session_timeout; librdkafka holds
   * the messages meanwhile). Only a dead or frozen relay should lose its row and resource locks:
   * otherwise another relay would publish a newer state that this batch's older one then follows.
   * Returns the function that stops it.
   */
  keepAlive(intervalMs: number): () => void {
    if (intervalMs <= 0) return () => undefined;
    const timer = setInterval(() => {
      // The send time, not the answer's: an answer read after a freeze proves nothing about now.
      const sentAt = Date.now();
      this.client.query('SELECT 1').then(
        () => (this.lastContactAt = Math.max(this.lastContactAt, sentAt)),
        () => undefined,
      );
    }, intervalMs);
    return () => clearInterval(timer);
  }

  /**
   * True when the claim session has not answered for longer than `idleTimeoutMs`: the process was
   * frozen (SIGSTOP, a stalled VM) and PostgreSQL has probably ended the session and released its
   * locks, so another relay may already be publishing these resources. Checked right before
   * enqueueing, so a thawed relay does not send the states it read before the freeze.
   */
  sessionMayBeLost(idleTimeoutMs: number): boolean {
    return idleTimeoutMs > 0 && Date.now() - this.lastContactAt >= idleTimeoutMs * 0.9;
  }

  /** Makes the marks durable and releases the row locks. */
  async commit(): Promise<void> {
    if (this.done) return;
    await this.finish('COMMIT');
  }

  /** Sends the statement(s) that end the transaction with a COMMIT, then releases the connection. */
  private async finish(text: string): Promise<void> {
    this.done = true;
    try {
      await this.client.query(text);
      this.client.release();
    } catch (err) {
      // The transaction is aborted (or the connection gone): destroying the connection rolls it back.
      this.client.release(err as Error);
      throw err;
    }
  }

  /** Rolls back: every row becomes claimable again, unmarked (at-least-once). */
  async abandon(cause?: unknown): Promise<void> {
    if (this.done) return;
    this.done = true;
    try {
      await this.client.query('ROLLBACK');
      this.client.release(cause instanceof Error ? cause : undefined);
    } catch (err) {
      // The connection is broken; destroying it rolls back on the server side as well.
      this.client.release(err as Error);
    }
  }
}

/** How a topic is claimed. */
export interface ClaimMode {
  /** `ordering: strict` (outbox order per key, commit-order horizon). */
  readonly strict: boolean;
  /** The rows' `changeset` is needed (observer rows, dependency rows whose record is gone). */
  readonly changeset: boolean;
  /** Attributes whose changeset values are needed (parent_from_changeset); of the others only the keys are read. */
  readonly changesetValues?: readonly string[];
}

export class OutboxStore {
  sql: OutboxStatements;
  /** Whether the table has the gem's optional `changeset` column (see start()). */
  private changesetColumn = true;

  constructor(
    private readonly pool: Pool,
    private readonly table: string,
    private readonly onPublish: OnPublish = 'mark',
  ) {
    this.sql = outboxStatements(table, onPublish);
  }

  /**
   * Learns whether the optional `changeset` column exists (without it claims read none) and
   * returns the size of the server's shared lock table, which the batches' advisory locks use.
   */
  async start(): Promise<{ lockSlots: number }> {
    const result = await this.pool.query<{ present: boolean; slots: number; relay_xids: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'changeset' AND NOT attisdropped) AS present,
              EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('dionysus_relay_inflight')
                         AND attname = 'claim_xid' AND NOT attisdropped) AS relay_xids,
              current_setting('max_locks_per_transaction')::int
                * (current_setting('max_connections')::int + current_setting('max_prepared_transactions')::int) AS slots`,
      [this.table],
    );
    this.changesetColumn = result.rows[0]?.present === true;
    if (result.rows[0]?.relay_xids === true) this.sql = outboxStatements(this.table, this.onPublish, { relayXids: true });
    return { lockSlots: Number(result.rows[0]?.slots ?? 0) };
  }

  /**
   * Claims up to `limit` pending rows of one topic. Returns null (and keeps no connection) when
   * nothing is pending, so an idle relay holds no transaction open.
   */
  async claim(topic: string, limit: number, publishDelayMs: number, mode: ClaimMode = { strict: false, changeset: false }): Promise<ClaimedBatch | null> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new RelayError('POSTGRES_UNAVAILABLE', `cannot connect to PostgreSQL: ${errorMessage(err)}`, {
        retriable: true,
        cause: err,
      });
    }
    try {
      const changeset = mode.changeset && this.changesetColumn;
      const { claims } = this.sql;
      const statement = mode.strict ? (changeset ? claims.strictWithChangeset : claims.strict) : changeset ? claims.withChangeset : claims.plain;
      const params = { topic, delayMs: publishDelayMs, limit, ...(changeset ? { changesetValues: mode.changesetValues ?? [] } : {}) };
      // BEGIN, the claim transaction's settings and the claim: one round trip (beginAndClaimText).
      const results = (await client.query(beginAndClaimText(this.sql.beginClaim, statement, params))) as unknown as QueryResult[];
      const result = results[results.length - 1] as QueryResult;
      if (result.rows.length === 0) {
        await client.query('COMMIT');
        client.release();
        return null;
      }
      const xid = (result.rows[0] as { claim_xid?: unknown }).claim_xid;
      return new ClaimedBatch(client, this.sql, result.rows.map(toClaimedRow), xid === undefined || xid === null ? undefined : String(xid));
    } catch (err) {
      client.release(err as Error);
      throw new RelayError('POSTGRES_QUERY_FAILED', `claim on ${topic} failed: ${errorMessage(err)}`, {
        retriable: true,
        cause: err,
        context: { topic },
      });
    }
  }

  /** Deletes up to `limit` published rows older than `olderThanMs`; returns how many. */
  async deletePublished(olderThanMs: number, limit: number): Promise<number> {
    const result = await this.pool.query({
      name: this.sql.deletePublished.name,
      text: this.sql.deletePublished.text,
      values: [olderThanMs, limit],
    });
    return result.rowCount ?? 0;
  }

  async countPending(topics: readonly string[]): Promise<number> {
    const result = await this.pool.query({ name: this.sql.countPending.name, text: this.sql.countPending.text, values: [topics] });
    return Number((result.rows[0] as { pending: number }).pending);
  }
}

function toClaimedRow(r: Record<string, unknown>): ClaimedRow {
  return {
    id: String(r['id']),
    resourceClass: String(r['resource_class']),
    resourceId: String(r['resource_id']),
    eventName: String(r['event_name']),
    topic: String(r['topic']),
    partitionKey: r['partition_key'] === null ? null : String(r['partition_key']),
    attempts: Number(r['attempts']),
    createdAtMs: Number(r['created_at_ms']),
    changeset: typeof r['changeset'] === 'object' && r['changeset'] !== null ? (r['changeset'] as Record<string, unknown>) : null,
  };
}

function truncate(text: string): string {
  return text.length <= ERROR_MESSAGE_MAX_CHARS ? text : `${text.slice(0, ERROR_MESSAGE_MAX_CHARS - 1)}…`;
}
