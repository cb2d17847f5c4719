import { escapeLiteral } from 'pg';

/**
 * Every statement the relay runs against dionysus_outboxes, in one place.
 *
 * Conventions:
 * - The table name is configurable (schema-qualified, quoted once here); statements are built
 *   once at start and reused as named prepared statements.
 * - "now" is `now() AT TIME ZONE 'UTC'`: the columns are `timestamp without time zone` holding
 *   UTC written by the application clock, so comparisons must be made in UTC whatever the
 *   session's TimeZone is.
 * - All statements that change rows run in the claim's transaction, under the row locks the
 *   claim took, so no other relay can touch those rows between claim and mark.
 */

import { instanceAlive } from './crash-tracker-sql';

export interface Statement {
  readonly name: string;
  readonly text: string;
}

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

export interface OutboxStatements {
  /** Opens a claim's transaction (one round trip, simple protocol). */
  readonly beginClaim: string;
  /** The regular claim without `changeset` (kept as a name for the benchmark's ceiling and tests). */
  readonly claim: Statement;
  readonly claims: ClaimStatements;
  readonly markPublished: { name: string; text: string };
  /** markPublished + COMMIT as one simple query, or undefined when an id is not an integer. */
  readonly markPublishedAndCommit: (ids: readonly string[]) => string | undefined;
  readonly markFailed: { name: string; text: string };
  readonly countPending: { name: string; text: string };
  readonly deletePublished: { name: string; text: string };
  readonly insertFanout: { name: string; text: string };
  readonly lockResources: { name: string; text: string };
  /** lockResources plus the frozen-relay guard (needs sql/004's columns of dionysus_relay_inflight). */
  readonly lockResourcesGuarded: { name: string; text: string };
  /** A strict claim's pending rows up to its newest row, in claim order (see keyHeads in strict-order.ts). */
  readonly strictPending: { name: string; text: string };
}

/** Outbox ids are bigint: only such text may be inlined into SQL (markPublishedAndCommit). */
const INTEGER_TEXT = /^-?\d{1,19}$/;

/** Quotes `schema.table` (or `table`) as an identifier pair. */
export function qualifiedTable(schema: string, table: string): string {
  const quote = (id: string): string => `"${id.replace(/"/g, '""')}"`;
  return `${quote(schema)}.${quote(table)}`;
}

export type OnPublish = 'mark' | 'delete';

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
 * `relayXids`: dionysus_relay_inflight has `claim_xid` (sql/004), so the strict claim can tell the
 * relays' own claim transactions from the application's even when DATABASE_URL sets another
 * application_name.
 */
export function outboxStatements(table: string, onPublish: OnPublish = 'mark', options: { relayXids?: boolean } = {}): OutboxStatements {
  // The columns and predicate every claim shares: pending rows of topic $1, older than the delay
  // $2 (ms), due for a (re)try. `changeset` is an optional column of the gem's schema, needed only by
  // observer and dependency topics: reading it costs the claim several times its price (measured:
  // 4 ms against 1 ms for 500 rows), so the other topics' claim leaves it out.
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
  //   sync, or add RELAY_PUBLISH_DELAY_MS as a margin);
  //   Relay sessions are told by their application_name, and (with sql/004) by their claim
  //   transaction's id registered in dionysus_relay_inflight, since a DATABASE_URL may set its own
  //   application_name: a relay whose batch waits long (a broker outage) must not hold the horizon.
  // - a failed row waiting for its retry holds back the later rows of its key (a given-up row,
  //   retry_at = infinity, does not). The held keys are found once per claim. Without the optional
  //   index of sql/optional/strict_retry_index.sql that walks every pending row of the topic (no
  //   index of the gem's has retry_at): strict topics then pay for their backlog on every claim.
  //   With it, only the rows waiting for a retry are read; its predicate is implied by `held`'s,
  //   keep it so (claim-plan checks that the planner uses it).
  // SKIP LOCKED still lets this claim take a later row of a key whose older row another batch is
  // publishing right now: strictPending, run next in the same transaction, finds those.
  const strict = (changeset: string): string => `WITH held AS (
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
                AND ${strictKeyOf('o')} NOT IN (SELECT key FROM held)
              ORDER BY topic, created_at
              LIMIT $3
              FOR UPDATE OF o SKIP LOCKED`;
  const withoutChangeset = 'NULL::jsonb';
  // Observers need only the changeset's keys (which attributes changed) and deleted dependencies
  // the values of their parent_from_changeset attributes ($4): the rest is left in the table, so a
  // huge changeset (a text attribute rewritten wholesale) costs neither transfer nor relay memory.
  // A changeset that is not an object reads as NULL (nothing observed) instead of failing the claim.
  const changesetColumn = `CASE WHEN jsonb_typeof(o.changeset::jsonb) = 'object' THEN
                      (SELECT jsonb_object_agg(e.key, CASE WHEN e.key = ANY($4::text[]) THEN e.value END)
                         FROM jsonb_each(o.changeset::jsonb) AS e) END`;
  const claims: ClaimStatements = {
    plain: { name: 'dionysus_relay_claim', text: regular(withoutChangeset) },
    withChangeset: { name: 'dionysus_relay_claim_changeset', text: regular(changesetColumn) },
    strict: { name: 'dionysus_relay_claim_strict', text: strict(withoutChangeset) },
    strictWithChangeset: { name: 'dionysus_relay_claim_strict_changeset', text: strict(changesetColumn) },
  };
  // Snapshot ordering across relays: before a batch reads the state of its resources it takes
  // a transaction-scoped advisory lock per resource (topic, class, id), held until its marks
  // commit, i.e. after delivery. A resource whose lock another batch holds (of this relay or
  // another) is not waited for: its key comes back in `busy`, and the caller leaves the rows that
  // publish it pending for a later claim, when that batch has committed and a newer state is read.
  // Waiting instead would let one slow batch (a broker outage, a wedged producer) stall every batch
  // that shares a single resource with it, i.e. nearly all of them under a hot working set. Try
  // locks cannot deadlock; keys still come sorted and distinct from the caller. (No ORDER BY here:
  // the claim transaction prices sorts out, which would make this plan absurd.)
  const lockAll = `SELECT coalesce(array_agg(k) FILTER (WHERE NOT pg_try_advisory_xact_lock(hashtextextended(k, 0))), '{}') AS busy
                     FROM unnest($1::text[]) AS k`;
  const markPublishedSql = (ids: string): string =>
    onPublish === 'mark'
      ? // The gem's success bookkeeping: published_at set, failure columns cleared, attempts kept,
        // updated_at untouched. clock_timestamp(), not now(): the transaction began at claim time,
        // and published_at - created_at is the latency operators watch.
        `UPDATE ${table}
            SET published_at = clock_timestamp() AT TIME ZONE 'UTC',
                failed_at = NULL, retry_at = NULL, error_class = NULL, error_message = NULL
          WHERE id = ANY(${ids})`
      : // on_publish = delete: no history is kept, so a published row is removed instead of
        // updated; one index deletion instead of eight index insertions, and no bloat to vacuum.
        `DELETE FROM ${table} WHERE id = ANY(${ids})`;
  return {
    // The planner's statistics describe the whole table, mostly published history, so with a
    // backlog it may prefer the gem's published_at or created_at index plus a sort, which reads the
    // whole backlog (or history) for every claim. Within the claim's transaction only, sorting,
    // sequential and bitmap scans are priced out: the one sort-free plan left is the walk of the
    // partial index. A generic plan of the prepared claim knows neither the topic nor the limit,
    // and with `topic = $1` bound by equality the gem's created_at index also yields the order
    // without a sort: measured at 1.7 s per claim on a 1M-row history. force_custom_plan plans
    // every execution with its values (about 0.3 ms). jit = off: the priced-out scans carry a
    // huge cost estimate, which makes PostgreSQL JIT-compile any statement that still needs one
    // (the frozen-relay guard's scan of the in-flight table took 600 ms a batch, all compiling).
    // random_page_cost = 1.1: the default 4 prices the partial index's heap reads as random disk
    // reads (its leading column, topic, is interleaved in the heap), while the gem's created_at
    // index reads the heap in order; for a strict batch's pending-rows list (no LIMIT) the
    // created_at index then cost only ~1.3x more than the partial one on the benchmark's table, and
    // statistics taken during a drain chose it: 250-350 ms a batch instead of 2-5 ms, reading the
    // whole history. The rows these statements read are the table's newest and in cache; at 1.1
    // the margin is ~3x (claim-plan checks the plan on a table of that shape).
    // SET LOCAL ends with the transaction.
    beginClaim:
      'BEGIN; SET LOCAL enable_sort = off; SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; ' +
      'SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1',
    claim: claims.plain,
    claims,
    markPublished: { name: onPublish === 'mark' ? 'dionysus_relay_mark_published' : 'dionysus_relay_delete_published', text: markPublishedSql('$1::bigint[]') },
    // The same mark and the COMMIT in one round trip (simple query protocol, so the ids are an
    // inlined array literal): the last two statements of a batch without failures. Only digits are
    // ever inlined; anything else falls back to the parameterized statement and a separate COMMIT.
    markPublishedAndCommit: (ids) => (ids.length > 0 && ids.every((id) => INTEGER_TEXT.test(id)) ? `${markPublishedSql(`'{${ids.join(',')}}'::bigint[]`)}; COMMIT` : undefined),
    markFailed: {
      name: 'dionysus_relay_mark_failed',
      // The gem's failure bookkeeping, one statement for all failed rows of a batch. The delay is
      // computed by the retry schedule in Node (cap, jitter) from the attempts the claim read; the
      // row lock guarantees attempts did not change since. A row given up gets retry_at =
      // 'infinity': never pending again (for this relay and the gem's worker alike), still
      // readable by ActiveRecord (Float::INFINITY), and visible by `retry_at = 'infinity'`.
      text: `UPDATE ${table} AS o
                SET error_class = f.error_class,
                    error_message = f.error_message,
                    failed_at = clock_timestamp() AT TIME ZONE 'UTC',
                    updated_at = clock_timestamp() AT TIME ZONE 'UTC',
                    attempts = o.attempts + 1,
                    retry_at = CASE WHEN f.give_up THEN 'infinity'::timestamp
                                    ELSE (clock_timestamp() AT TIME ZONE 'UTC') + make_interval(secs => f.delay_ms / 1000) END
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::float8[], $5::bool[])
                    AS f(id, error_class, error_message, delay_ms, give_up)
              WHERE o.id = f.id`,
    },
    countPending: {
      name: 'dionysus_relay_count_pending',
      // Pending rows of the given topics (published_at IS NULL, i.e. the partial index), for
      // `--exit-when-idle` progress and tests; not on the hot path.
      text: `SELECT count(*)::int AS pending
               FROM ${table}
              WHERE published_at IS NULL AND topic = ANY($1::text[])
                AND (retry_at IS NULL OR retry_at <= (now() AT TIME ZONE 'UTC'))`,
    },
    lockResources: { name: 'dionysus_relay_lock_resources', text: lockAll },
    lockResourcesGuarded: {
      name: 'dionysus_relay_lock_resources_guarded',
      // lockResources, then the frozen-relay guard. When a relay process is frozen (SIGSTOP, a
      // stalled VM) past idle_in_transaction_session_timeout, PostgreSQL ends its claim transaction
      // and its resource locks go with it, but messages it had already handed to librdkafka are
      // still queued in the frozen process and are sent when it resumes. Publishing a newer state
      // of those resources now could be overtaken by that older one. So, once this batch holds its
      // own locks, it looks for in-flight entries (written outside their transactions) of other
      // relay instances that are still alive (their session advisory lock is held) but whose claim
      // transaction did not commit and is no longer running: their resource keys are returned, and
      // the caller leaves those rows pending until that relay resumes and clears its entry (after
      // its queued messages are delivered) or dies. Normally no entry qualifies, and the guard
      // costs a scan of a table with one row per batch in flight. The guard runs in the target list
      // of the locks' one-row result, so it can only run after every lock was taken (or found busy).
      text: `SELECT busy, ARRAY(
               SELECT DISTINCT k
                 FROM dionysus_relay_inflight AS f, unnest(f.resource_keys) AS k
                WHERE f.instance <> $2
                  AND f.resource_keys IS NOT NULL
                  AND txid_status(f.claim_xid) IS DISTINCT FROM 'in progress'
                  AND txid_status(f.claim_xid) IS DISTINCT FROM 'committed'
                  AND ${instanceAlive('f.instance')}
                  AND k = ANY($1::text[])) AS held
             FROM (${lockAll}) AS l0`,
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
      // (with a subquery it took the created_at index; claim-plan checks the plan).
      text: `SELECT p.id, p.resource_class, p.resource_id, p.partition_key
               FROM ${table} AS p
              WHERE p.published_at IS NULL AND p.topic = $1
                AND p.created_at <= $2::timestamp
                AND p.retry_at IS DISTINCT FROM 'infinity'
              ORDER BY p.topic, p.created_at`,
    },
    insertFanout: {
      name: 'dionysus_relay_insert_fanout',
      // An observer fan-out too large to send inline becomes ordinary outbox rows of the target
      // topic, written in the observer row's own claim transaction: they exist if and only if the
      // observer row is marked published, and are then published (and retried) like any other row.
      text: `INSERT INTO ${table} (resource_class, resource_id, event_name, topic, created_at, updated_at)
             SELECT $1, id, $3, $4, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' FROM unnest($2::text[]) AS id`,
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
