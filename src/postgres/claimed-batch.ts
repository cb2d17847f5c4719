import type { PoolClient } from 'pg';
import type { ClaimedRow } from '../domain/outbox-row';
import type { KeyedRow } from '../domain/strict-order';
import type { OutboxStatements } from './outbox-sql';
import { PING } from './session-sql';
import { prepared } from './statement';

/** The resource keys a batch may not publish now: locked by another batch, or registered by a frozen relay. */
export interface LockOutcome {
  readonly busy: ReadonlySet<string>;
  readonly frozen: ReadonlySet<string>;
}

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
    await this.client.query(prepared(this.sql.markPublished, [ids]));
  }

  /**
   * Marks `ids` published and commits in one round trip (see markPublishedAndCommit in
   * mark-sql.ts); two when the ids cannot be inlined. Like commit(), releases the connection.
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
    await this.client.query(
      prepared(this.sql.markFailed, [
        marks.map((m) => m.id),
        marks.map((m) => m.errorClass),
        marks.map((m) => truncate(m.errorMessage)),
        marks.map((m) => m.delayMs),
        marks.map((m) => m.giveUp),
      ]),
    );
  }

  /**
   * Advisory locks on the batch's resources until commit (LOCK_RESOURCES in lock-sql.ts). Returns
   * the keys another batch holds right now (`busy`: not waited for) and, with `guardInstance` (this
   * process's instance id), the keys a live but frozen relay may still publish (`frozen`,
   * LOCK_RESOURCES_GUARDED). The caller must not publish either now.
   */
  async lockResources(keys: readonly string[], guardInstance?: string): Promise<LockOutcome> {
    if (keys.length === 0) return { busy: new Set(), frozen: new Set() };
    // Distinct, in no particular order: try locks never wait, so no order is needed against deadlocks.
    const ordered = [...new Set(keys)];
    const sentAt = Date.now();
    const result = await this.client.query<{ busy: string[]; frozen?: string[] }>(
      guardInstance === undefined ? prepared(this.sql.lockResources, [ordered]) : prepared(this.sql.lockResourcesGuarded, [ordered, guardInstance]),
    );
    this.lastContactAt = Math.max(this.lastContactAt, sentAt);
    return { busy: new Set(result.rows[0]?.busy ?? []), frozen: new Set(result.rows[0]?.frozen ?? []) };
  }

  /**
   * For a strict claim: the topic's rows not yet published or given up, from the oldest to the
   * claim's newest, in claim order (claim-sql.ts strictPending), for keyHeads in strict-order.ts.
   */
  async strictPending(topic: string): Promise<KeyedRow[]> {
    if (this.rows.length === 0) return [];
    // The newest claimed row's created_at, rounded up to the next millisecond (createdAtMs keeps
    // microseconds as a fraction): the list may run a little past the claim, never stop short.
    const newestMs = Math.max(...this.rows.map((r) => r.createdAtMs));
    const bound = new Date(Math.floor(newestMs) + 1).toISOString();
    const sentAt = Date.now();
    const result = await this.client.query<{ id: string; resource_class: string; resource_id: string; partition_key: string | null }>(
      prepared(this.sql.strictPending, [topic, bound]),
    );
    this.lastContactAt = Math.max(this.lastContactAt, sentAt);
    return result.rows.map((r) => ({ id: String(r.id), resourceClass: r.resource_class, resourceId: r.resource_id, partitionKey: r.partition_key }));
  }

  /** Writes outbox rows for an observer fan-out in this batch's transaction. */
  async insertFanout(resourceClass: string, ids: readonly string[], eventName: string, topic: string): Promise<void> {
    await this.client.query(prepared(this.sql.insertFanout, [resourceClass, ids, eventName, topic]));
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
      this.client.query(prepared(PING)).then(
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

function truncate(text: string): string {
  return text.length <= ERROR_MESSAGE_MAX_CHARS ? text : `${text.slice(0, ERROR_MESSAGE_MAX_CHARS - 1)}…`;
}
