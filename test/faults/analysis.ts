import type { ReadMessage } from './kafka-reader';

/**
 * The checks, as pure functions over what the database committed and what Kafka holds.
 *
 * Model: every committed write of version v of resource K wrote exactly one outbox row; publishing
 * that row reads K's state at that moment (so version >= v) and sends one message (the suite's topics
 * do not coalesce, and no resource is ever deleted). Hence:
 * - lost: rows that cannot be matched to a message of their key with a version >= theirs. With the
 *   rows and the messages of one key sorted by version, the best matching leaves
 *   max over i of (i + 1 - #messages with version >= v_i) rows unmatched (Hall's condition on the
 *   nested sets), and that is what is counted;
 * - duplicates: messages beyond one per outbox row, per key: max(0, #messages - #rows);
 * - order violations: within a key's partition, a message carrying an older version than one
 *   already before it in the log (a consumer would see the state go back in time).
 */

export interface CommittedRow {
  readonly topic: string;
  /** Message key `<Model>:<id>`. */
  readonly key: string;
  readonly version: number;
}

export interface FaultWindow {
  readonly type: string;
  readonly startMs: number;
  readonly endMs: number;
  /** The relay (or service) the fault hit. */
  readonly target?: string;
}

/** How long before a freeze a message may have been handed to librdkafka and still sit in its queue. */
const QUEUED_BEFORE_FREEZE_MS = 5000;

/**
 * A violation of the kind the frozen-relay guard prevents: a relay frozen past the idle timeout
 * loses its locks, and a message it had already handed to librdkafka before the freeze is sent
 * when it thaws, after another relay's newer state. True for a delivery-race whose stale message
 * was produced by the frozen relay shortly before or during its freeze. (Before the guard this was
 * a documented exception; now it fails the suite like any violation, and is named in its detail.)
 */
export function isFrozenQueueException(v: OrderViolation, faults: readonly FaultWindow[]): boolean {
  return (
    v.mechanism === 'delivery-race' &&
    faults.some(
      (f) =>
        f.type === 'relay-freeze' &&
        f.target === v.stale.loadedBy &&
        v.stale.timestampMs >= f.startMs - QUEUED_BEFORE_FREEZE_MS &&
        v.stale.timestampMs <= f.endMs,
    )
  );
}

export interface LostKey {
  readonly key: string;
  readonly unmatchedRows: number;
  readonly committedMax: number;
  readonly kafkaMax: number | undefined;
}

export interface OrderViolation {
  readonly topic: string;
  readonly key: string;
  /** The message carrying the highest version so far, earlier in the log. */
  readonly newer: ReadMessage;
  /** The later message that goes back in time. */
  readonly stale: ReadMessage;
  readonly cause: string;
  readonly mechanism: ViolationMechanism;
}

/**
 * How the older state got behind the newer one (both need two senders of one resource at once):
 * - load-race: the stale state was read first but handed to librdkafka after the newer one was;
 * - delivery-race: the stale message was handed to librdkafka first yet written to the partition
 *   after the newer one: two producers racing by milliseconds, or a message that waited in a
 *   producer queue (a broker outage, a frozen process) while another relay re-published the row.
 */
export type ViolationMechanism = 'load-race' | 'delivery-race';

export interface Analysis {
  readonly rows: number;
  readonly messages: number;
  readonly lostRows: number;
  readonly lostKeys: LostKey[];
  /** Keys whose final committed version is not in Kafka (the consumer's final state would be wrong). */
  readonly finalMissing: LostKey[];
  /**
   * Keys whose last message (highest offset) carries an older state than their final version: what
   * log compaction keeps and what a consumer that applies every message ends with.
   */
  readonly lastNotFinal: LostKey[];
  readonly duplicates: number;
  /** Duplicates by the fault during (or just after) which the extra message's state was read. */
  readonly duplicatesByCause: Map<string, number>;
  readonly orderViolations: OrderViolation[];
  readonly violationsByCause: Map<string, number>;
  /** Violations whose two messages were sent by the same relay (in-process ordering) vs by two relays. */
  readonly violationsSameRelay: number;
  readonly violationsByMechanism: Map<string, number>;
  /** Keys found on more than one partition. */
  readonly splitKeys: string[];
  /** Messages whose key the database never wrote. */
  readonly unknownKeys: string[];
}

export const STEADY_STATE = 'before any fault';
const BLAME_LEAD_MS = 2000;

export function analyze(rows: readonly CommittedRow[], messages: readonly ReadMessage[], faults: readonly FaultWindow[]): Analysis {
  const rowsByKey = groupBy(rows, (r) => `${r.topic}\u0000${r.key}`);
  const messagesByKey = groupBy(messages, (m) => `${m.topic}\u0000${m.key}`);
  const cause = causeFinder(faults);
  const lostKeys: LostKey[] = [];
  const finalMissing: LostKey[] = [];
  const lastNotFinal: LostKey[] = [];
  const duplicatesByCause = new Map<string, number>();
  let duplicates = 0;
  for (const [id, keyRows] of rowsByKey) {
    const keyMessages = messagesByKey.get(id) ?? [];
    const key = keyRows[0]?.key ?? id;
    const rowVersions = keyRows.map((r) => r.version);
    const messageVersions = keyMessages.map((m) => m.version);
    const committedMax = Math.max(...rowVersions);
    const kafkaMax = messageVersions.length > 0 ? Math.max(...messageVersions) : undefined;
    const unmatched = unmatchedRows(rowVersions, messageVersions);
    if (unmatched > 0) lostKeys.push({ key, unmatchedRows: unmatched, committedMax, kafkaMax });
    if (kafkaMax === undefined || kafkaMax < committedMax) finalMissing.push({ key, unmatchedRows: unmatched, committedMax, kafkaMax });
    const last = keyMessages.reduce<ReadMessage | undefined>((a, m) => (a === undefined || m.offset > a.offset ? m : a), undefined);
    if (last !== undefined && last.version < committedMax) lastNotFinal.push({ key, unmatchedRows: unmatched, committedMax, kafkaMax: last.version });
    duplicates += Math.max(0, keyMessages.length - keyRows.length);
    for (const extra of extraMessages(rowVersions, keyMessages)) increment(duplicatesByCause, cause(extra.loadedAtMs));
  }
  const { violations, splitKeys } = orderViolations(messagesByKey, cause);
  const violationsByCause = countBy(violations, (v) => v.cause);
  return {
    rows: rows.length,
    messages: messages.length,
    lostRows: lostKeys.reduce((n, k) => n + k.unmatchedRows, 0),
    lostKeys,
    finalMissing,
    lastNotFinal,
    duplicates,
    duplicatesByCause,
    orderViolations: violations,
    violationsByCause,
    violationsSameRelay: violations.filter((v) => v.newer.loadedBy === v.stale.loadedBy).length,
    violationsByMechanism: countBy(violations, (v) => v.mechanism),
    splitKeys,
    unknownKeys: [...messagesByKey.keys()].filter((id) => !rowsByKey.has(id)).map((id) => id.replace('\u0000', ' ')),
  };
}

/** Rows left without a message of version >= theirs by the best possible matching. */
export function unmatchedRows(rowVersions: readonly number[], messageVersions: readonly number[]): number {
  const rowsDesc = [...rowVersions].sort((a, b) => b - a);
  const messagesDesc = [...messageVersions].sort((a, b) => b - a);
  let deficit = 0;
  let covering = 0;
  rowsDesc.forEach((v, i) => {
    while (covering < messagesDesc.length && (messagesDesc[covering] as number) >= v) covering += 1;
    deficit = Math.max(deficit, i + 1 - covering);
  });
  return deficit;
}

/**
 * Which messages of one key were extra: in the order their state was read, each message publishes
 * the oldest row not yet published whose version it covers; a message with no such row left is a
 * re-publication. (Used to attribute duplicates to faults; the total is max(0, messages - rows).)
 */
export function extraMessages(rowVersions: readonly number[], keyMessages: readonly ReadMessage[]): ReadMessage[] {
  const pending = [...rowVersions].sort((a, b) => a - b);
  let next = 0;
  const extra: ReadMessage[] = [];
  for (const m of [...keyMessages].sort((a, b) => a.loadedAtMs - b.loadedAtMs || a.offset - b.offset)) {
    if (next < pending.length && (pending[next] as number) <= m.version) next += 1;
    else extra.push(m);
  }
  return extra;
}

function orderViolations(
  messagesByKey: Map<string, ReadMessage[]>,
  cause: (atMs: number) => string,
): { violations: OrderViolation[]; splitKeys: string[] } {
  const violations: OrderViolation[] = [];
  const splitKeys: string[] = [];
  for (const keyMessages of messagesByKey.values()) {
    const byPartition = groupBy(keyMessages, (m) => String(m.partition));
    if (byPartition.size > 1) splitKeys.push(`${keyMessages[0]?.topic} ${keyMessages[0]?.key}`);
    for (const log of byPartition.values()) {
      log.sort((a, b) => a.offset - b.offset);
      let newest: ReadMessage | undefined;
      for (const m of log) {
        if (newest !== undefined && m.version < newest.version) {
          const mechanism: ViolationMechanism = m.timestampMs < newest.timestampMs ? 'delivery-race' : 'load-race';
          violations.push({ topic: m.topic, key: m.key, newer: newest, stale: m, cause: cause(m.loadedAtMs), mechanism });
        } else if (newest === undefined || m.version > newest.version) {
          newest = m;
        }
      }
    }
  }
  return { violations, splitKeys };
}

/**
 * Blame: the fault after which something happened. A fault's window runs from 2 s before its start
 * (a relay signalled mid-batch read its records just before) to 2 s before the next fault's start;
 * the last one's runs to the end. Duplicates surface once a resource's backlog is drained, which can
 * be a while after the fault that caused them, hence windows that reach the next fault.
 */
function causeFinder(faults: readonly FaultWindow[]): (atMs: number) => string {
  const sorted = [...faults].sort((a, b) => a.startMs - b.startMs);
  return (atMs) => {
    let cause = STEADY_STATE;
    for (const f of sorted) if (atMs >= f.startMs - BLAME_LEAD_MS) cause = f.type;
    return cause;
  };
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) increment(counts, keyOf(item));
  return counts;
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
