import type { Logger } from 'pino';
import type { DependencyConfig, ObserverConfig } from '../config/topics-types';
import type { OutgoingMessage } from '../domain/message-builder';
import type { IdType } from '../domain/model-types';
import type { ClaimedRow } from '../domain/outbox-row';
import type { RetryPolicy } from '../domain/retry-schedule';
import type { KeyedRow } from '../domain/strict-order';
import type { DeliveryOutcome } from '../kafka/delivery-tracker';
import type { FailureMark, LockOutcome } from '../postgres/claimed-batch';
import type { TrackedBatch } from '../postgres/crash-tracker';
import type { ParentsById } from '../postgres/dependency-resolver';
import type { ClaimMode } from '../postgres/outbox-store';
import type { LoadResult } from '../postgres/serializer-loader';
import type { RelayEvents } from './relay-events';

/**
 * What a batch needs from the outside world, as small interfaces: the real ones are the Postgres
 * and Kafka modules (main.ts wires them), unit tests pass stand-ins.
 */

/** The outbox table: claims pending rows of one topic (postgres/outbox-store.ts). */
export interface ClaimSource {
  claim(topic: string, limit: number, publishDelayMs: number, mode: ClaimMode): Promise<ClaimedRows | null>;
}

/** The claim's open transaction: its rows stay locked until commit() or abandon(). */
export interface ClaimSession {
  readonly rows: readonly ClaimedRow[];
  /** The claim transaction's id, registered with the in-flight entry (the frozen-relay guard). */
  readonly claimXid: string | undefined;
  /** Touches the session every `intervalMs` until the returned function is called. */
  keepAlive(intervalMs: number): () => void;
  /** True when the session was silent long enough for PostgreSQL to have ended it (a freeze). */
  sessionMayBeLost(idleTimeoutMs: number): boolean;
  commit(): Promise<void>;
  abandon(cause?: unknown): Promise<void>;
}

/** A strict claim's pending rows of the topic, in claim order (for keyHeads). */
export interface StrictPendingRows {
  strictPending(topic: string): Promise<KeyedRow[]>;
}

/** The resource locks, taken in the claim's transaction (resource-locks.ts). */
export interface ResourceLocker {
  lockResources(keys: readonly string[], guardInstance?: string): Promise<LockOutcome>;
}

/** Observer fan-outs too large to send inline, written as outbox rows in the claim's transaction. */
export interface FanoutWriter {
  insertFanout(resourceClass: string, ids: readonly string[], eventName: string, topic: string): Promise<void>;
}

/** The marks, in the claim's transaction. */
export interface RowMarker {
  markPublished(ids: readonly string[]): Promise<void>;
  /** The mark and the commit in one round trip (the batch then needs no commit()). */
  markPublishedAndCommit(ids: readonly string[]): Promise<void>;
  markFailed(marks: readonly FailureMark[]): Promise<void>;
}

export interface ClaimedRows extends ClaimSession, StrictPendingRows, ResourceLocker, FanoutWriter, RowMarker {}

/** Crash tracking's registry of batches in flight (postgres/crash-tracker.ts). */
export interface InFlightRegistry {
  /** True when batches register their claim transaction and resource keys (sql/004). */
  readonly guarding: boolean;
  /** This process's instance id. */
  readonly instance: string;
  begin(rowIds: readonly string[], claimXid: string | undefined, keys?: readonly string[]): Promise<TrackedBatch | undefined>;
  narrow(batch: TrackedBatch, rowIds: readonly string[], keys?: readonly string[]): Promise<void>;
  registerKeys(batch: TrackedBatch | undefined, keys: readonly string[]): Promise<void>;
  end(batch: TrackedBatch | undefined, publishedSuspects: readonly string[]): Promise<void>;
}

/** The serializers (postgres/serializer-loader.ts). */
export interface RecordSource {
  load(topicName: string, modelName: string, ids: readonly string[]): Promise<LoadResult>;
  idType(topicName: string, modelName: string): IdType | undefined;
}

/** The parents of dependency rows (postgres/dependency-resolver.ts). */
export interface DependencyParents {
  parents(configs: readonly DependencyConfig[], ids: readonly string[]): Promise<ParentsById>;
}

/** The observers of the topics YAML and their related records (postgres/observer-resolver.ts). */
export interface ObserverTargets {
  readonly all: readonly ObserverConfig[];
  /** Up to `limit` ids of the records related to `observedId`, in id order, after id `after` when given. */
  relatedPage(observer: ObserverConfig, observedId: string, limit: number, after?: string): Promise<string[]>;
}

/** The Kafka producer (kafka/publisher.ts). */
export interface MessageSink {
  enqueueAll(messages: readonly OutgoingMessage[]): Promise<{ settled: Promise<DeliveryOutcome[]> }>;
  refreshPartitions(topics: Iterable<string>): Promise<void>;
  partitionCount(topic: string): number;
}

export interface BatchSettings {
  readonly batchSize: number;
  /** Resource locks one batch may take (the relay's lock budget); undefined = no cap. */
  readonly locksPerBatch?: number | undefined;
  readonly publishDelayMs: number;
  /** How often a batch waiting for delivery reports touches its claim session (0 = never). */
  readonly claimKeepAliveMs: number;
  /** The session's idle_in_transaction_session_timeout: silent longer, a batch must not send. */
  readonly idleInTransactionTimeoutMs: number;
  /** Observer fan-outs above this many records go through the outbox instead of inline. */
  readonly observerInlineLimit: number;
  readonly retryPolicy: RetryPolicy;
  /** In [0, 1), for retry jitter. */
  readonly random: () => number;
}

export interface BatchDeps {
  readonly outbox: ClaimSource;
  readonly inFlight: InFlightRegistry;
  readonly records: RecordSource;
  readonly dependencies: DependencyParents;
  readonly observers: ObserverTargets;
  readonly kafka: MessageSink;
  /** Metrics, health and the compatibility file (relay-events.ts). */
  readonly events: RelayEvents;
  readonly logger: Logger;
  readonly settings: BatchSettings;
}
