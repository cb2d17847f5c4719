import type { Pool } from 'pg';
import type { ModelConfig, TopicsConfig } from '../config/topics-types';
import { indexCostNote, type OutboxIndex } from '../domain/index-cost';
import { OBSERVER_TOPIC } from '../domain/topic-names';
import { probeCapabilities, type Capabilities } from './capabilities';
import { PRICE_OUT_SEQSCAN, TABLE_COLUMNS, TABLE_INDEXES, explainSerializer, pendingByClass } from './catalog-sql';
import { qualifiedTable } from './identifiers';
import { planLocks } from '../domain/lock-budget';
import { lockTableUse } from './lock-sql';
import { SLOT_HOLDERS } from './slot-sql';
import { prepared, unprepared } from './statement';

/** Columns the relay reads or writes; `changeset` is optional in the gem's schema. */
const REQUIRED_COLUMNS = [
  'id', 'resource_class', 'resource_id', 'event_name', 'topic', 'partition_key', 'published_at', 'failed_at',
  'retry_at', 'error_class', 'error_message', 'attempts', 'created_at', 'updated_at',
];

export interface LiveCheckResult {
  readonly problems: string[];
  readonly notes: string[];
}

/**
 * `check` against the live database (read-only): the outbox table's shape and publishing index,
 * pending rows the configuration cannot publish, and whether serializers can use an index on id.
 */
export async function checkDatabase(
  pool: Pool,
  schema: string,
  table: string,
  topics: TopicsConfig,
  /** RELAY_BATCH_SIZE × RELAY_MAX_INFLIGHT_BATCHES: advisory locks one relay may hold. */
  locksPerRelay = 0,
  /** RELAY_ACTIVE_SLOTS and the lock budget's inputs; absent or 0 slots: no limit. */
  slots?: SlotSettings,
): Promise<LiveCheckResult> {
  const problems: string[] = [];
  const notes: string[] = [];
  const columns = await pool.query<{ column_name: string }>(prepared(TABLE_COLUMNS, [schema, table]));
  const present = new Set(columns.rows.map((r) => r.column_name));
  if (present.size === 0) return { problems: [`postgres: table ${schema}.${table} does not exist (dionysus-relay migrate creates it)`], notes };
  const missing = REQUIRED_COLUMNS.filter((c) => !present.has(c));
  if (missing.length > 0) problems.push(`postgres: ${schema}.${table} lacks column(s) ${missing.join(', ')}`);
  notes.push(`postgres: ${schema}.${table} has the relay's columns${present.has('changeset') ? ' and changeset' : ' (no changeset column: observers and deleted-dependency lookups need it)'}`);

  // The claim needs a partial index on (topic, created_at) WHERE published_at IS NULL, whatever its name.
  const indexes = await tableIndexes(pool, schema, table);
  const publishing = indexes.find((r) => /\(topic, created_at\)/.test(r.def) && /WHERE \(published_at IS NULL\)/.test(r.def));
  if (publishing === undefined) {
    problems.push(`postgres: ${schema}.${table} has no partial index (topic, created_at) WHERE published_at IS NULL: every claim would scan the published history`);
  } else {
    notes.push(`postgres: publishing index ${publishing.name} present`);
  }
  const cost = indexCostNote(`${schema}.${table}`, indexes);
  if (cost !== undefined) notes.push(cost);
  const strict = topics.topics.filter((t) => t.ordering === 'strict').map((t) => t.name);
  if (strict.length > 0) notes.push(`postgres: ${strictRetryIndexNote(strict, findRetryWaitIndex(indexes))}`);

  const pending = await pool.query<{ topic: string; resource_class: string; n: string }>(prepared(pendingByClass(qualifiedTable(schema, table))));
  for (const row of pending.rows) {
    if (row.topic === OBSERVER_TOPIC) continue;
    const topic = topics.byName.get(row.topic);
    if (topic === undefined) {
      notes.push(`postgres: ${row.n} pending row(s) of topic ${row.topic}, which this configuration does not name (left to whoever owns it)`);
    } else if (!topic.models.has(row.resource_class) && !topic.dependencies.has(row.resource_class)) {
      problems.push(`postgres: ${row.n} pending row(s) of ${row.resource_class} on ${row.topic}, which has no serializer or dependency for it`);
    }
  }
  const capabilities = await probeCapabilities(pool, qualifiedTable(schema, table));
  notes.push(...bookkeepingNotes(capabilities, locksPerRelay, slots === undefined || slots.activeSlots === 0));
  if (slots !== undefined && slots.activeSlots > 0) {
    const slotCheck = await slotNotes(pool, qualifiedTable(schema, table), capabilities.lockSlots, slots, topics.observerInlineLimit);
    notes.push(...slotCheck.notes);
    problems.push(...slotCheck.problems);
  }
  for (const topic of topics.topics) {
    for (const model of topic.models.values()) {
      const problem = await seqScanProblem(pool, model);
      if (problem !== undefined) problems.push(`${topics.file}: ${model.path}: ${problem}`);
    }
  }
  return { problems, notes };
}

interface IndexDefinition {
  readonly name: string;
  readonly def: string;
}

async function tableIndexes(pool: Pool, schema: string, table: string): Promise<OutboxIndex[]> {
  const result = await pool.query<OutboxIndex>(prepared(TABLE_INDEXES, [schema, table]));
  return result.rows;
}

/**
 * An index that lets a strict claim find the keys held by rows waiting for a retry without reading
 * the whole backlog: led by topic, partial on unpublished rows with a retry_at (what
 * sql/optional/strict_retry_index.sql creates, whatever its name).
 */
export function findRetryWaitIndex(indexes: readonly IndexDefinition[]): IndexDefinition | undefined {
  return indexes.find((r) => /\(topic(, retry_at)?\)/.test(r.def) && /WHERE .*published_at IS NULL.*retry_at IS NOT NULL/.test(r.def));
}

/** Name of the strict topics' retry-wait index on the outbox table, if it has one. */
export async function retryWaitIndexName(pool: Pool, schema: string, table: string): Promise<string | undefined> {
  return findRetryWaitIndex(await tableIndexes(pool, schema, table))?.name;
}

/** What `check` and `run` say about strict topics and the optional retry-wait index. */
export function strictRetryIndexNote(strictTopics: readonly string[], index: { name: string } | undefined): string {
  return index === undefined
    ? `strict topic(s) ${strictTopics.join(', ')}: without the optional retry-wait index each claim reads the topic's whole backlog to find keys held by failed rows (dionysus-relay migrate --with strict_retry_index adds it)`
    : `strict topic(s) ${strictTopics.join(', ')}: held keys found through ${index.name}`;
}

export interface SlotSettings {
  readonly activeSlots: number;
  readonly sharePercent: number;
  readonly batchSize: number;
  readonly maxInflightBatches: number;
}

/** With active slots: each active relay's lock budget, what it runs with, and the slots held now. */
async function slotNotes(pool: Pool, table: string, lockTableSize: number, slots: SlotSettings, observerInlineLimit: number): Promise<LiveCheckResult> {
  const outcome = planLocks({ lockTableSize, ...slots, observerInlineLimit });
  if (!outcome.ok) return { problems: [`postgres: ${outcome.reason}`], notes: [] };
  const { plan } = outcome;
  const held = await pool.query(prepared(SLOT_HOLDERS, [table]));
  const lowered = plan.clamped.length === 0 ? '' : `; lowered at start: ${plan.clamped.join(', ')}`;
  return {
    problems: [],
    notes: [
      `postgres: ${held.rows.length} of RELAY_ACTIVE_SLOTS=${slots.activeSlots} active slots held now; each active relay may hold ${plan.budgetPerRelay} advisory locks ` +
        `(${slots.sharePercent}% of the lock table's ${lockTableSize} entries / ${slots.activeSlots}): batches of ${plan.batchSize} × ${plan.maxInflightBatches} in flight${lowered}`,
    ],
  };
}

/** Crash tracking and its frozen-relay guard (sql/003, sql/004), and, with no limit on active relays, the lock table the batches use. */
function bookkeepingNotes(capabilities: Capabilities, locksPerRelay: number, unlimited: boolean): string[] {
  const notes: string[] = [];
  if (!capabilities.crashTracking) notes.push('postgres: crash tracking is off (no dionysus_relay_inflight/suspects): run `dionysus-relay migrate`');
  else if (!capabilities.frozenRelayGuard) notes.push('postgres: the frozen-relay guard is off (sql/004 not applied): run `dionysus-relay migrate`');
  else notes.push('postgres: crash tracking and the frozen-relay guard are on');
  if (locksPerRelay > 0 && unlimited) {
    const slots = capabilities.lockSlots;
    const use = lockTableUse(locksPerRelay, slots);
    notes.push(
      `postgres: one relay holds up to ${locksPerRelay} advisory locks (batch × in flight), ${use.percent}% of the lock table (${slots} slots)` +
        (use.overHalf ? ': set RELAY_ACTIVE_SLOTS, raise max_locks_per_transaction or lower RELAY_BATCH_SIZE' : ''),
    );
  }
  return notes;
}

/** Runs the serializer's plan with sequential scans priced out: a Seq Scan left means no usable index. */
async function seqScanProblem(pool: Pool, model: ModelConfig): Promise<string | undefined> {
  if (model.source.kind !== 'sql') return undefined; // views are queried by their id column's own type
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(PRICE_OUT_SEQSCAN);
    const sample = model.idType === 'uuid' ? '00000000-0000-0000-0000-000000000000' : '0';
    const plan = await client.query(unprepared(explainSerializer(model.source.sql), [[sample]]));
    const text = JSON.stringify(plan.rows[0]);
    const seq = /"Node Type":"Seq Scan","[^}]*?"Relation Name":"([^"]+)"/.exec(text);
    return seq === null ? undefined : `the serializer scans ${seq[1]} sequentially: no index serves its id lookup`;
  } catch {
    // A statement that does not run is already reported by the serializer check.
    return undefined;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}
