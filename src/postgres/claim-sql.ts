import { escapeLiteral } from 'pg';
import type { Statement } from './statement';

/**
 * The claim: how a batch takes its rows. Conventions of every outbox statement:
 * - the table name is configurable (schema-qualified, quoted by identifiers.ts); statements are
 *   built once at start;
 * - "now" is `now() AT TIME ZONE 'UTC'`: the columns are `timestamp without time zone` holding UTC
 *   written by the application clock, so comparisons must be made in UTC whatever the session's
 *   TimeZone is;
 * - every statement that changes rows runs in the claim's transaction, under the row locks the claim
 *   took, so no other relay can touch those rows between claim and mark.
 */

/** The values of a claim: $1 topic, $2 publish delay (ms), $3 limit, $4 changeset attributes. */
export interface ClaimParams {
  readonly topic: string;
  readonly delayMs: number;
  readonly limit: number;
  /** Only for the claims that read `changeset`. */
  readonly changesetValues?: readonly string[];
}

/**
 * The claim transaction's BEGIN and settings and the claim itself as one simple query: one round
 * trip instead of two, on every batch and every empty poll. The simple query protocol takes no
 * parameters, so the claim's are written into the text as literals (escaped by pg's
 * escapeLiteral; numbers checked). Nothing is lost by not preparing: the claim transaction forces
 * a custom plan for every claim anyway (plan_cache_mode), planned with these very values.
 */
export function beginAndClaimText(beginClaim: string, claim: Statement, params: ClaimParams): string {
  if (!Number.isFinite(params.delayMs) || params.delayMs < 0) throw new RangeError(`publish delay must be a finite number >= 0, got ${params.delayMs}`);
  if (!Number.isInteger(params.limit) || params.limit < 1) throw new RangeError(`claim limit must be an integer >= 1, got ${params.limit}`);
  const literals: Record<string, string> = {
    '1': escapeLiteral(params.topic),
    '2': String(params.delayMs),
    '3': String(params.limit),
    '4': `ARRAY[${(params.changesetValues ?? []).map(escapeLiteral).join(',')}]::text[]`,
  };
  // $1..$4 only appear as the claim's parameters (never inside a string literal of the text).
  const text = claim.text.replace(/\$([1-4])(?!\d)/g, (_, n: string) => literals[n] as string);
  return `${beginClaim}; ${text}`;
}

/** The four claims: regular or strict ordering, with or without the optional `changeset` column. */
export interface ClaimStatements {
  readonly plain: Statement;
  readonly withChangeset: Statement;
  readonly strict: Statement;
  readonly strictWithChangeset: Statement;
}

/**
 * The claim transaction's settings, sent with its BEGIN. The planner's statistics describe the
 * whole table, mostly published history, so with a backlog it may prefer the gem's published_at or
 * created_at index plus a sort, which reads the whole backlog (or history) for every claim. Within
 * the claim's transaction only:
 * - sorting, sequential and bitmap scans are priced out: the one sort-free plan left is the walk of
 *   the partial publishing index;
 * - force_custom_plan: a generic plan of a prepared claim knows neither the topic nor the limit,
 *   and with `topic = $1` bound by equality the gem's created_at index also yields the order
 *   without a sort, reading the whole history;
 * - jit = off: the priced-out scans carry huge cost estimates, which would make PostgreSQL
 *   JIT-compile any statement that still needs one (the frozen-relay guard's scan of the in-flight
 *   table among them);
 * - random_page_cost = 1.1: the rows these statements read are the table's newest and in cache. At
 *   the default 4 the partial index's heap reads count as random disk reads (its leading column,
 *   topic, is interleaved in the heap) while the gem's created_at index reads the heap in order, so
 *   a strict batch's pending-rows list (no LIMIT) could switch to created_at and read the history.
 * claim-plan checks every claim's plan on a table of that shape; docs/benchmarks.md has the figures.
 * SET LOCAL ends with the transaction.
 */
export const BEGIN_CLAIM =
  'BEGIN; SET LOCAL enable_sort = off; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; ' +
  'SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1';

/** The strict claim's horizon ignores transactions registered as relay claims (txid low 32 bits = xid). */
const relayClaimExcluded = `
                  AND NOT EXISTS (SELECT 1 FROM dionysus_relay_inflight AS f
                                   WHERE f.claim_xid % 4294967296 = a.backend_xid::text::bigint)`;

/**
 * The strict-ordering key of a row in SQL, spelled like strictKey (src/domain/strict-order.ts):
 * the partition_key, else the resource; an empty partition_key counts as none.
 */
function strictKeyOf(alias: string): string {
  return `coalesce(nullif(${alias}.partition_key, ''), ${alias}.resource_class || ':' || ${alias}.resource_id)`;
}

/**
 * The claims of `table`. `relayXids`: dionysus_relay_inflight has `claim_xid` (sql/004), so the
 * strict claim can tell the relays' own claim transactions from the application's even when
 * DATABASE_URL sets another application_name.
 */
export function claimStatements(table: string, options: { relayXids?: boolean } = {}): { claims: ClaimStatements; strictPending: Statement } {
  // The columns and predicate every claim shares: pending rows of topic $1, older than the delay
  // $2 (ms), due for a (re)try. `changeset` is an optional column of the gem's schema, needed only by
  // observer and dependency topics: reading it costs the claim several times its price, so the other
  // topics' claim leaves it out.
  // claim_xid: the claim transaction's id, registered with the batch in dionysus_relay_inflight so
  // other relays can tell whether this transaction still holds its locks (lockResourcesGuarded).
  const claimablePrefix = (changeset: string): string => `SELECT id, resource_class, resource_id, event_name, topic, partition_key, attempts,
                    extract(epoch FROM created_at) * 1000 AS created_at_ms,
                    ${changeset} AS changeset, txid_current() AS claim_xid
               FROM ${table} AS o
              WHERE published_at IS NULL
                AND topic = $1
                AND created_at <= (now() AT TIME ZONE 'UTC') - make_interval(secs => $2::float8 / 1000)
                AND (retry_at IS NULL OR retry_at <= (now() AT TIME ZONE 'UTC'))`;
  // One topic per claim, oldest rows first. The predicate repeats the partial index's
  // `published_at IS NULL` and the ORDER BY is exactly its key (topic, created_at), so the
  // planner walks index_dionysus_outboxes_publishing_idx and stops after $3 rows: no sort, no
  // published row read (test/integration/postgres/claim-plan.test.ts guards this). Adding `id`
  // as a tie-breaker would force an incremental sort over every row sharing a created_at (a bulk
  // insert shares one); equal keys already come in heap order, i.e. insertion order for an
  // append-only table. Rows waiting for a retry are filtered while walking. The delay is the gem's
  // intended one (`created_at <= now - delay`; the gem's own query had the sign wrong).
  // FOR UPDATE SKIP LOCKED: rows another relay (or another batch of ours) holds are skipped,
  // never waited for; the locks last until this batch's transaction commits its marks, so a
  // crash before that releases them unpublished and they are published again: at-least-once.
  const regular = (changeset: string): string => `${claimablePrefix(changeset)}
              ORDER BY topic, created_at
              LIMIT $3
              FOR UPDATE SKIP LOCKED`;
  // The claim of a topic with `ordering: strict` (outbox order per key, key = the row's
  // partition_key, else its resource). Two more conditions than the regular claim:
  // - commit order: only rows created before the oldest write transaction still running (other
  //   than relays') began, so a row whose transaction commits late cannot be overtaken by a
  //   newer row of its key (compares the application's clock with the database's: keep them in
  //   sync, or add RELAY_PUBLISH_DELAY_MS as a margin). Relay sessions are told by their
  //   application_name, and (with sql/004) by their claim transaction's id registered in
  //   dionysus_relay_inflight, since a DATABASE_URL may set its own application_name: a relay whose
  //   batch waits long (a broker outage) must not hold the horizon.
  // - a failed row waiting for its retry holds back the later rows of its key (a given-up row,
  //   retry_at = infinity, does not): retrying_keys, found once per claim. Without the optional
  //   index of sql/optional/strict_retry_index.sql that walks every pending row of the topic (no
  //   index of the gem's has retry_at): strict topics then pay for their backlog on every claim.
  //   With it, only the rows waiting for a retry are read; its predicate is implied by
  //   retrying_keys', keep it so (claim-plan checks that the planner uses it).
  // SKIP LOCKED still lets this claim take a later row of a key whose older row another batch is
  // publishing right now: strictPending, run next in the same transaction, finds those.
  const strict = (changeset: string): string => `WITH retrying_keys AS (
               SELECT DISTINCT ${strictKeyOf('p')} AS key
                 FROM ${table} AS p
                WHERE p.published_at IS NULL AND p.topic = $1
                  AND p.retry_at > (now() AT TIME ZONE 'UTC') AND p.retry_at <> 'infinity'),
             horizon AS (
               SELECT coalesce(min(xact_start) AT TIME ZONE 'UTC', 'infinity'::timestamp) AS at
                 FROM pg_stat_activity AS a
                WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() AND datname = current_database()
                  AND application_name NOT LIKE 'dionysus-relay%'${options.relayXids === true ? relayClaimExcluded : ''})
             ${claimablePrefix(changeset)}
                AND created_at < (SELECT at FROM horizon)
                AND ${strictKeyOf('o')} NOT IN (SELECT key FROM retrying_keys)
              ORDER BY topic, created_at
              LIMIT $3
              FOR UPDATE OF o SKIP LOCKED`;
  const withoutChangeset = 'NULL::jsonb';
  // Observers need only the changeset's keys (which attributes changed) and deleted dependencies
  // the values of their parent_from_changeset attributes ($4): the rest is left in the table, so a
  // huge changeset (a text attribute rewritten wholesale) costs neither transfer nor relay memory.
  // A changeset that is not an object reads as NULL (nothing observed) instead of failing the claim.
  // A column of another type than json(b) (the gem's encrypted changesets are text) is never cast
  // here, where one value that is not JSON would fail every claim of the topic: its text comes as a
  // JSON string, and changesetFromColumn (outbox-row.ts) parses it or finds nothing observed.
  const changesetColumn = `CASE WHEN pg_typeof(o.changeset) IN ('jsonb'::regtype, 'json'::regtype) THEN
                    CASE WHEN jsonb_typeof(o.changeset::jsonb) = 'object' THEN
                      (SELECT jsonb_object_agg(e.key, CASE WHEN e.key = ANY($4::text[]) THEN e.value END)
                         FROM jsonb_each(o.changeset::jsonb) AS e) END
                  ELSE to_jsonb(o.changeset::text) END`;
  return {
    claims: {
      plain: { name: 'dionysus_relay_claim', text: regular(withoutChangeset) },
      withChangeset: { name: 'dionysus_relay_claim_changeset', text: regular(changesetColumn) },
      strict: { name: 'dionysus_relay_claim_strict', text: strict(withoutChangeset) },
      strictWithChangeset: { name: 'dionysus_relay_claim_strict_changeset', text: strict(changesetColumn) },
    },
    strictPending: {
      name: 'dionysus_relay_strict_pending',
      // Run in a strict claim's transaction, right after the claim: every row of topic $1 not yet
      // published or given up, from the oldest to $2 (at or after the claim's newest row), in the
      // claim's order (the partial index's). The first row of each key in this list is the key's
      // head; a claimed row that is not its key's head must not be published now (keyHeads in
      // src/domain/strict-order.ts). This is what SKIP LOCKED hides from the claim: an older row
      // of the key that another batch of any relay has claimed stays unpublished here until that
      // batch has its delivery reports and commits. Its own statement, so its snapshot is taken
      // after the claim's: a row published in between is already delivered and not listed. Rows
      // after the claim's newest (a bound rounded up) change no head of a claimed row. The walk
      // covers the rows other batches hold, failed and given-up rows and this claim's own, not the
      // backlog after them. $2 is a value, not a subquery: with it the planner can see that the
      // gem's created_at index would read the whole history up to $2, and walks the partial one
      // (with a subquery it takes the created_at index; claim-plan checks the plan).
      text: `SELECT p.id, p.resource_class, p.resource_id, p.partition_key
               FROM ${table} AS p
              WHERE p.published_at IS NULL AND p.topic = $1
                AND p.created_at <= $2::timestamp
                AND p.retry_at IS DISTINCT FROM 'infinity'
              ORDER BY p.topic, p.created_at`,
    },
  };
}
