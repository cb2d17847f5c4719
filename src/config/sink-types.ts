/**
 * The typed result of the sink YAML (`dionysus-relay sink`).
 *
 * Glossary of the consuming half:
 * - synced table: a local table holding copies of another service's records, keyed by
 *   `synced_id` (the remote id) with the `synced_*` columns of the gem's consumer.
 * - model mapping: `model_name` of an event (`User`), or the name of a sideloaded relationship
 *   (`bookings`), or the `type` of a polymorphic link, to a synced table.
 * - ordering guard: a record is applied only when its `updated_at` (else `created_at`) is not older
 *   than the stored `synced_updated_at` (else `synced_created_at`); equal applies.
 * - partition batch: the messages of one partition fetched together, applied in one transaction.
 * - poison message: one that cannot be applied (not JSON, a constraint violation, an unmapped
 *   model under strict mapping); it is dead-lettered, or it stops its partition.
 * - inbox: an optional table receiving the events other than created/updated/destroyed.
 */

export type SoftDeleteStrategy = 'cancel' | 'delete';
export type PoisonHandling = 'dead_letter' | 'stop';
export type PruneMode = 'none' | 'delete' | 'cancel';

/** Local names of the gem's `synced_*` columns (its configurable attribute names). */
export interface SyncedColumns {
  readonly id: string;
  readonly data: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly canceledAt: string;
}

export const DEFAULT_SYNCED_COLUMNS: SyncedColumns = {
  id: 'synced_id',
  data: 'synced_data',
  createdAt: 'synced_created_at',
  updatedAt: 'synced_updated_at',
  canceledAt: 'synced_canceled_at',
};

/** How a parent model resolves one of its sideloaded relationships (the gem leaves it to the app). */
export interface RelationshipConfig {
  readonly name: string;
  /**
   * Column of the related table holding the parent's synced_id; received records get it set, and
   * pruning finds the parent's local records by it.
   */
  readonly foreignKey: string | undefined;
  /** What happens to local records of the parent that the payload no longer lists. */
  readonly prune: PruneMode;
  readonly path: string;
}

export interface ModelMapping {
  /** A model name (`User`), a relationship name (`bookings`) or a polymorphic type. */
  readonly name: string;
  /** Schema-qualified or plain table name; undefined when the mapping says `ignore: true`. */
  readonly table: string | undefined;
  /** Remote attribute key (after the synced_* renaming, e.g. `name` or `synced_account_id`) → local column. */
  readonly rename: ReadonlyMap<string, string>;
  readonly columns: SyncedColumns;
  /** By relationship name (per parent model). */
  readonly relationships: ReadonlyMap<string, RelationshipConfig>;
  readonly path: string;
}

export interface SinkTopicConfig {
  /** Key in the YAML (`users`). */
  readonly key: string;
  /** Kafka topic: `<namespace>_<key>` (the gem's TopicName), or the key without a namespace. */
  readonly name: string;
  /** For `*_destroyed` without canceled_at: set synced_canceled_at (cancel) or delete the row. */
  readonly softDelete: SoftDeleteStrategy;
  readonly onPoison: PoisonHandling;
  /** Where poison messages go (`on_poison: dead_letter`). */
  readonly deadLetterTopic: string | undefined;
  /** An event of a model without a mapping is a poison message instead of being skipped. */
  readonly strictMapping: boolean;
  readonly path: string;
}

export interface SinkConfig {
  readonly file: string;
  /** Kafka consumer group id. */
  readonly groupId: string;
  readonly namespace: string;
  readonly topics: readonly SinkTopicConfig[];
  /** By full topic name. */
  readonly byName: ReadonlyMap<string, SinkTopicConfig>;
  readonly models: ReadonlyMap<string, ModelMapping>;
  /** Table receiving the events other than created/updated/destroyed; undefined = not recorded. */
  readonly inboxTable: string | undefined;
  /** librdkafka consumer settings that override the sink's defaults. */
  readonly librdkafka: Readonly<Record<string, string | number | boolean>>;
}

/** The gem's default consumer group: `<client_id>_<prefix>_<client_id>`. */
export function gemGroupId(clientId: string, prefix = 'dionysus_consumer_group_for'): string {
  return `${clientId}_${prefix}_${clientId}`;
}
