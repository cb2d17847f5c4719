/**
 * The typed result of the topics YAML. The words used here (outbox row, topic key and name, model,
 * claim, batch, mark...) are defined in the glossary at the top of src/domain/outbox-row.ts.
 */

import type { IdType, RelationshipConfig } from '../domain/model-types';
import { OBSERVER_TOPIC } from '../domain/topic-names';

export type { IdType, RelationshipConfig } from '../domain/model-types';
export { GENESIS_SUFFIX, OBSERVER_TOPIC } from '../domain/topic-names';

export type SerializerSource = { kind: 'sql'; sql: string } | { kind: 'view'; view: string };

export interface ModelConfig {
  /** Class name as written in resource_class, e.g. `User`, `Admin::User`. */
  readonly name: string;
  readonly source: SerializerSource;
  /** Type of the primary key; `undefined` = inferred (view: from the catalog; sql: from the id text). */
  readonly idType: IdType | undefined;
  /** Attribute of the serialized record that gives the partition key (topic default when unset). */
  readonly partitionKey: string;
  /**
   * Genesis only: the relation whose ids are paged through (`table:`). Unset = the view for a
   * `view:` model; an `sql:` model needs it for genesis (its statement has no id source).
   */
  readonly table: string | undefined;
  /** Genesis only: the attribute that marks a soft-deleted record (non-null = `_destroyed`). */
  readonly softDeleteColumn: string;
  /** Relationships in declaration order: their links, then the sideloaded ones' records. */
  readonly relationships: readonly RelationshipConfig[];
  /** Columns the serializer returns for the relay's own use (links, partition key), not sent. */
  readonly hiddenColumns: readonly string[];
  /** json/jsonb columns confirmed as attributes although named like a dependency. */
  readonly jsonAttributes: readonly string[];
  /** YAML path of this model, for error messages (`topics.users.models.User`). */
  readonly path: string;
}

/**
 * A dependency of a published model (the gem's `publish Booking, with: [BookingsFee]`): a row whose
 * resource_class is the dependency republishes each parent it belongs to.
 */
export interface DependencyConfig {
  /** Dependency class name (`BookingsFee`). */
  readonly name: string;
  /** Parent model on the same topic (`Booking`). */
  readonly parentModel: string;
  /** Takes $1 = dependency ids; returns `dependency_id, parent_id` rows. */
  readonly parentsSql: string;
  /** For a dependency that no longer exists: the changeset attribute holding its parent's id. */
  readonly parentFromChangeset: string | undefined;
  readonly path: string;
}

export interface TopicConfig {
  /** Key in the YAML (`users`). */
  readonly key: string;
  /** Full Kafka topic name, as written in dionysus_outboxes.topic (`dionysus_demo_users`). */
  readonly name: string;
  readonly genesisReplica: boolean;
  /** Publish one message for several pending rows of the same resource and event in a batch. */
  readonly coalesce: boolean;
  /**
   * snapshot (default): every message carries the state at publish time, and per resource states
   * never go backwards. strict: in addition, messages of one key appear in outbox order, a failed
   * row holds back the later rows of its key, and late-committing rows are not overtaken.
   */
  readonly ordering: 'snapshot' | 'strict';
  readonly models: ReadonlyMap<string, ModelConfig>;
  /** By dependency class name; one dependency may belong to several parent models. */
  readonly dependencies: ReadonlyMap<string, readonly DependencyConfig[]>;
}

/**
 * An observer (contract §3): when `model` changes one of `attributes` (an `__outbox_observer__` row
 * whose changeset names it), republish the `republish` records of `topic` that `sql` finds.
 */
export interface ObserverConfig {
  readonly name: string;
  readonly model: string;
  readonly attributes: readonly string[];
  readonly topic: TopicConfig;
  readonly republish: string;
  /** Takes $1 = the observed ids; returns the related records' `id`. */
  readonly sql: string;
  readonly path: string;
}

/** The gem's observers_inline_maximum_size: larger fan-outs go through the outbox instead. */
export const DEFAULT_OBSERVER_INLINE_LIMIT = 1000;

export interface TopicsConfig {
  readonly file: string;
  readonly namespace: string;
  readonly topics: readonly TopicConfig[];
  readonly observers: readonly ObserverConfig[];
  readonly observerInlineLimit: number;
  /**
   * Serializers of models that are only sideloaded (`serializers:`), by class name. A sideload
   * uses the topic's own model of that name first.
   */
  readonly serializers: ReadonlyMap<string, ModelConfig>;
  /** By full topic name. */
  readonly byName: ReadonlyMap<string, TopicConfig>;
}

/** The gem's default partition key attribute. */
export const DEFAULT_PARTITION_KEY_ATTRIBUTE = 'account_id';

/** The gem's default soft-delete column (Dionysus::Producer configuration `soft_delete_column`). */
export const DEFAULT_SOFT_DELETE_COLUMN = 'canceled_at';

/**
 * The topics the relay claims rows of: every configured topic, plus the observer pseudo-topic when
 * observers are declared (its rows are never sent to a Kafka topic of that name).
 */
export function claimTopics(config: TopicsConfig): TopicConfig[] {
  if (config.observers.length === 0) return [...config.topics];
  const pseudo: TopicConfig = {
    key: OBSERVER_TOPIC,
    name: OBSERVER_TOPIC,
    genesisReplica: false,
    coalesce: false,
    ordering: 'snapshot',
    models: new Map(),
    dependencies: new Map(),
  };
  return [...config.topics, pseudo];
}
