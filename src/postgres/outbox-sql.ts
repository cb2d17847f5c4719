import { BEGIN_CLAIM, claimStatements, type ClaimStatements } from './claim-sql';
import { LOCK_RESOURCES, LOCK_RESOURCES_GUARDED } from './lock-sql';
import { markStatements, type MarkStatements, type OnPublish } from './mark-sql';
import type { Statement } from './statement';

/**
 * Every statement the relay runs against the outbox table, built once for the configured table:
 * the claims (claim-sql.ts), the resource locks (lock-sql.ts), the marks (mark-sql.ts), and the
 * maintenance statements below.
 */
export interface OutboxStatements extends MarkStatements {
  /** Opens a claim's transaction (one round trip, simple protocol). */
  readonly beginClaim: string;
  /** The regular claim without `changeset` (kept as a name for the benchmark's ceiling and tests). */
  readonly claim: Statement;
  readonly claims: ClaimStatements;
  /** A strict claim's pending rows up to its newest row, in claim order (see keyHeads in strict-order.ts). */
  readonly strictPending: Statement;
  readonly lockResources: Statement;
  /** lockResources plus the frozen-relay guard (needs sql/004's columns of dionysus_relay_inflight). */
  readonly lockResourcesGuarded: Statement;
  readonly countPending: Statement;
  readonly deletePublished: Statement;
}

export type { OnPublish } from './mark-sql';

/**
 * `table` is quoted already (identifiers.ts). `relayXids`: dionysus_relay_inflight has `claim_xid`
 * (sql/004), see claimStatements.
 */
export function outboxStatements(table: string, onPublish: OnPublish = 'mark', options: { relayXids?: boolean } = {}): OutboxStatements {
  const { claims, strictPending } = claimStatements(table, options);
  return {
    beginClaim: BEGIN_CLAIM,
    claim: claims.plain,
    claims,
    strictPending,
    lockResources: LOCK_RESOURCES,
    lockResourcesGuarded: LOCK_RESOURCES_GUARDED,
    ...markStatements(table, onPublish),
    countPending: {
      name: 'dionysus_relay_count_pending',
      // Pending rows of the given topics (published_at IS NULL, i.e. the partial index), for
      // `--exit-when-idle` progress and tests; not on the hot path.
      text: `SELECT count(*)::int AS pending
               FROM ${table}
              WHERE published_at IS NULL AND topic = ANY($1::text[])
                AND (retry_at IS NULL OR retry_at <= (now() AT TIME ZONE 'UTC'))`,
    },
    deletePublished: {
      name: 'dionysus_relay_delete_published',
      // Retention: at most $2 published rows older than $1 per statement, oldest first (the gem's
      // published_at index), so each transaction is short and vacuum keeps up. `published_at IS NOT
      // NULL` is implied by the comparison: a pending row can never match. SKIP LOCKED: rows being
      // marked by a relay right now are left for the next run.
      text: `DELETE FROM ${table}
              WHERE id IN (SELECT id FROM ${table}
                            WHERE published_at < (now() AT TIME ZONE 'UTC') - make_interval(secs => $1::float8 / 1000)
                            ORDER BY published_at
                            LIMIT $2
                            FOR UPDATE SKIP LOCKED)`,
    },
  };
}
