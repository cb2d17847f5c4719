import type { Logger } from 'pino';
import type { ClaimedRow } from '../domain/outbox-row';
import type { OutgoingMessage } from '../domain/message-builder';
import type { TopicConfig } from '../config/topics-types';
import type { PublishTarget } from '../domain/publish-targets';
import type { RetryPolicy } from '../domain/retry-schedule';
import type { RelayError } from '../errors';
import type { KafkaPublisher } from '../kafka/publisher';
import type { CrashTracker } from '../postgres/crash-tracker';
import type { DependencyResolver } from '../postgres/dependency-resolver';
import type { ObserverResolver } from '../postgres/observer-resolver';
import type { OutboxStore } from '../postgres/outbox-store';
import type { SerializerLoader } from '../postgres/serializer-loader';
import type { RelayObserver } from './relay-observer';

export interface BatchDeps {
  readonly store: OutboxStore;
  readonly loader: SerializerLoader;
  readonly dependencies: DependencyResolver;
  readonly observers: ObserverResolver;
  readonly crashTracker: CrashTracker;
  /** Observer fan-outs above this many records go through the outbox instead of inline. */
  readonly observerInlineLimit: number;
  readonly publisher: KafkaPublisher;
  readonly retryPolicy: RetryPolicy;
  readonly random: () => number;
  readonly logger: Logger;
  readonly observer: RelayObserver;
  readonly batchSize: number;
  /** How often a batch waiting for delivery reports touches its claim session (0 = never). */
  readonly claimKeepAliveMs: number;
  /** The session's idle_in_transaction_session_timeout: silent longer, a batch must not send. */
  readonly idleInTransactionTimeoutMs: number;
  readonly publishDelayMs: number;
}

/** Per-row state while a batch is being worked on. */
export interface RowWork {
  readonly row: ClaimedRow;
  /** The resources this row publishes (its own, a dependency's parents, an observer's targets). */
  targets: readonly PublishTarget<TopicConfig>[];
  /** Set when duplicate coalescing lets another row of the batch publish for this one. */
  coalescedInto: RowWork | undefined;
  messages: readonly OutgoingMessage[];
  error: RelayError | undefined;
  /** Index of the row's first message in the batch's message list. */
  first: number;
}
