import { GENESIS_SUFFIX, type ModelConfig, type TopicConfig, type TopicsConfig } from '../config/topics-types';
import { RelayError } from '../errors';
import { GenesisUsageError } from './genesis-options';

/**
 * Where a genesis sends, pure (contract §4): `--topic` naming the primary topic of a genesis-replica
 * pair sends to both topics; naming `<topic>_genesis` sends only there; a plain topic gets the
 * messages alone. The serializer is always the one configured on the primary topic.
 */
export interface GenesisTarget {
  /** The configured topic whose serializer and partition settings are used. */
  readonly topic: TopicConfig;
  readonly model: ModelConfig;
  /** The name the run is recorded under: the primary name, or the `_genesis` name when only that. */
  readonly name: string;
  /** Every topic that receives the messages, primary first. */
  readonly topicNames: readonly string[];
  /** How message building sees the destination (planRow's topicName and genesisReplica). */
  readonly topicName: string;
  readonly genesisReplica: boolean;
}

/** Resolves `--topic` (key `users`, full name `<ns>_users`, or either with `_genesis`) and `--model`. */
export function resolveTarget(topics: TopicsConfig, wanted: string, modelName: string): GenesisTarget {
  const replicaOnly = wanted.endsWith(GENESIS_SUFFIX);
  const base = replicaOnly ? wanted.slice(0, -GENESIS_SUFFIX.length) : wanted;
  const topic = topics.byName.get(base) ?? topics.topics.find((t) => t.key === base);
  if (topic === undefined) {
    const known = topics.topics.map((t) => t.name).join(', ');
    throw new GenesisUsageError(`topic ${replicaOnly ? `${base} (of ${wanted})` : wanted} is not configured in ${topics.file} (topics: ${known})`);
  }
  const model = topic.models.get(modelName);
  if (model === undefined) {
    const known = [...topic.models.keys()].join(', ');
    throw new GenesisUsageError(`model ${modelName} is not configured on topic ${topic.name} in ${topics.file} (models: ${known})`);
  }
  if (replicaOnly) {
    const name = topic.name + GENESIS_SUFFIX;
    return { topic, model, name, topicNames: [name], topicName: name, genesisReplica: false };
  }
  const topicNames = topic.genesisReplica ? [topic.name, topic.name + GENESIS_SUFFIX] : [topic.name];
  return { topic, model, name: topic.name, topicNames, topicName: topic.name, genesisReplica: topic.genesisReplica };
}

/**
 * The relation whose ids a genesis pages through: the model's `table:`, else its view. An `sql:`
 * serializer is a statement over ids and cannot list them, so it needs `table:`.
 */
export function idRelation(model: ModelConfig, file: string): string {
  if (model.table !== undefined) return model.table;
  if (model.source.kind === 'view') return model.source.view;
  throw new RelayError(
    'TOPICS_FILE_INVALID',
    `${file}: ${model.path}.table: genesis pages through the ids of ${model.name}, and an \`sql:\` serializer cannot list them; ` +
      'add `table: <the table holding the records>` to the model',
    { context: { file, key: `${model.path}.table` } },
  );
}

/**
 * A topics config holding only the target's model and the topic's models it sideloads (with
 * every `serializers:` entry), so only the serializers the run needs are prepared.
 */
export function serializerScope(topics: TopicsConfig, target: GenesisTarget): TopicsConfig {
  const sideloaded = target.model.relationships.flatMap((r) => (r.sideload && r.model !== undefined ? [r.model] : []));
  // A polymorphic sideload's classes are only known from the data: keep every model of the topic.
  const anyClass = target.model.relationships.some((r) => r.sideload && r.polymorphic);
  const models = [...target.topic.models.values()].filter((m) => anyClass || m.name === target.model.name || sideloaded.includes(m.name));
  const topic: TopicConfig = { ...target.topic, models: new Map(models.map((m) => [m.name, m])) };
  return { ...topics, topics: [topic], byName: new Map([[topic.name, topic]]) };
}
