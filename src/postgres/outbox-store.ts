import type { Pool, PoolClient, QueryResult } from 'pg';
import { changesetFromColumn, type ClaimedRow } from '../domain/outbox-row';
import { RelayError, errorMessage } from '../errors';
import { probeCapabilities, type Capabilities } from './capabilities';
import { beginAndClaimText } from './claim-sql';
import { ClaimedBatch } from './claimed-batch';
import { outboxStatements, type OnPublish, type OutboxStatements } from './outbox-sql';
import { prepared } from './statement';

export { ClaimedBatch, type FailureMark, type LockOutcome } from './claimed-batch';

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
  /** Whether the table has the gem's optional `changeset` column (see probeCapabilities()). */
  private changesetColumn = true;

  constructor(
    private readonly pool: Pool,
    private readonly table: string,
    private readonly onPublish: OnPublish = 'mark',
  ) {
    this.sql = outboxStatements(table, onPublish);
  }

  /**
   * Asks the database what it offers and adapts the statements to it: claims read `changeset` only
   * where the column exists, and the strict claim's horizon skips relay claims by their registered
   * transaction id where sql/004 provides it. Returns the capabilities (the caller checks the lock
   * table with them).
   */
  async probeCapabilities(): Promise<Capabilities> {
    const capabilities = await probeCapabilities(this.pool, this.table);
    this.changesetColumn = capabilities.changesetColumn;
    if (capabilities.relayXids) this.sql = outboxStatements(this.table, this.onPublish, { relayXids: true });
    return capabilities;
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
    const result = await this.pool.query(prepared(this.sql.deletePublished, [olderThanMs, limit]));
    return result.rowCount ?? 0;
  }

  async countPending(topics: readonly string[]): Promise<number> {
    const result = await this.pool.query(prepared(this.sql.countPending, [topics]));
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
    changeset: changesetFromColumn(r['changeset']),
  };
}
