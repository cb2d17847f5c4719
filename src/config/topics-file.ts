import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';
import { RelayError, errorMessage } from '../errors';
import {
  DEFAULT_PARTITION_KEY_ATTRIBUTE,
  DEFAULT_SOFT_DELETE_COLUMN,
  GENESIS_SUFFIX,
  DEFAULT_OBSERVER_INLINE_LIMIT,
  type DependencyConfig,
  type ObserverConfig,
  type ModelConfig,
  type TopicConfig,
  type TopicsConfig,
} from './topics-types';

import { CLASS_NAME, IDENTIFIER, parseDependencies, parseModel, type ModelDefaults } from './model-parsing';
import { YamlWalker } from './yaml-walker';

const ROOT_KEYS = ['namespace', 'defaults', 'topics', 'observers', 'observer_inline_limit', 'serializers'] as const;
const OBSERVER_KEYS = ['model', 'attributes', 'topic', 'republish', 'sql'] as const;
const DEFAULTS_KEYS = ['partition_key', 'soft_delete_column'] as const;
const TOPIC_KEYS = ['partition_key', 'genesis_replica', 'coalesce', 'ordering', 'models'] as const;
const TOPIC_NAME = /^[A-Za-z0-9._-]+$/;
/** Reads and validates the topics YAML; every problem names the file, the key path and the line. */
export function loadTopicsFile(file: string): TopicsConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RelayError('TOPICS_FILE_INVALID', `${file}: cannot read the topics file: ${errorMessage(err)}`, {
      cause: err,
      context: { file },
    });
  }
  return parseTopicsYaml(text, file);
}

/** Parses topics YAML text; `file` is only used in messages. */
export function parseTopicsYaml(text: string, file: string): TopicsConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const problems: string[] = [];
  const at = (node: YamlNode | null | undefined): string => {
    const offset = node?.range?.[0];
    return offset === undefined ? '' : `:${lineCounter.linePos(offset).line}`;
  };
  for (const e of doc.errors) {
    const pos = e.linePos?.[0];
    problems.push(`${file}${pos ? `:${pos.line}:${pos.col}` : ''}: invalid YAML: ${e.message.split('\n')[0]}`);
  }
  if (problems.length > 0) throw invalid(file, problems);

  const config = new TopicsWalker(new YamlWalker(doc, file, at, problems)).root();
  if (problems.length > 0 || config === undefined) throw invalid(file, problems);
  return config;
}

function invalid(file: string, problems: string[]): RelayError {
  return new RelayError('TOPICS_FILE_INVALID', problems.join('\n'), { context: { file, problems } });
}


/** The root, topics and observers of the topics file (models: see model-parsing.ts). */
class TopicsWalker {
  constructor(private readonly w: YamlWalker) {}

  root(): TopicsConfig | undefined {
    const { w } = this;
    const root = w.node([]);
    if (!isMap(root)) {
      w.fail(root as YamlNode | null, '', 'the topics file must be a map with `namespace` and `topics`');
      return undefined;
    }
    w.checkKeys(root, '', ROOT_KEYS);
    const namespace = w.optionalString(['namespace'], 'namespace', '');
    if (namespace !== '' && !TOPIC_NAME.test(namespace)) w.fail(w.node(['namespace']), 'namespace', 'must contain only letters, digits, ".", "_" or "-"');
    const defaults = w.node(['defaults']);
    if (defaults !== undefined) {
      if (isMap(defaults)) w.checkKeys(defaults, 'defaults', DEFAULTS_KEYS);
      else w.fail(defaults, 'defaults', 'must be a map');
    }
    const defaultPartitionKey = w.optionalString(['defaults', 'partition_key'], 'defaults.partition_key', DEFAULT_PARTITION_KEY_ATTRIBUTE);
    const defaultSoftDelete = w.optionalString(['defaults', 'soft_delete_column'], 'defaults.soft_delete_column', DEFAULT_SOFT_DELETE_COLUMN);
    if (!IDENTIFIER.test(defaultSoftDelete)) w.fail(w.node(['defaults', 'soft_delete_column']), 'defaults.soft_delete_column', 'must be a column name');
    const topicsNode = w.node(['topics']);
    if (!isMap(topicsNode) || topicsNode.items.length === 0) {
      w.fail(topicsNode ?? root, 'topics', 'must be a map with at least one topic');
      return undefined;
    }
    const topics: TopicConfig[] = [];
    for (const { key, node } of w.keys(['topics'])) {
      const topic = this.topic(namespace, key, node, { partitionKey: defaultPartitionKey, softDeleteColumn: defaultSoftDelete });
      if (topic) topics.push(topic);
    }
    const byName = new Map<string, TopicConfig>();
    for (const t of topics) {
      if (byName.has(t.name)) w.fail(w.node(['topics', t.key]), `topics.${t.key}`, `topic name ${t.name} is declared twice`);
      byName.set(t.name, t);
      if (t.name.endsWith(GENESIS_SUFFIX)) {
        w.fail(w.node(['topics', t.key]), `topics.${t.key}`, `a topic name must not end with ${GENESIS_SUFFIX} (reserved for replicas)`);
      }
    }
    const serializers = this.serializers();
    this.checkSideloads(topics, serializers);
    const observers = this.observers(topics);
    const limitNode = w.node(['observer_inline_limit']);
    let observerInlineLimit = DEFAULT_OBSERVER_INLINE_LIMIT;
    if (limitNode !== undefined) {
      const value = isScalar(limitNode) ? limitNode.value : undefined;
      if (typeof value === 'number' && Number.isInteger(value) && value >= 0) observerInlineLimit = value;
      else w.fail(limitNode, 'observer_inline_limit', 'must be a whole number (records sent inline before handing over to the outbox)');
    }
    return { file: w.file, namespace, topics, byName, observers, observerInlineLimit, serializers };
  }

  private topic(namespace: string, key: string, keyNode: YamlNode, defaults: ModelDefaults): TopicConfig | undefined {
    const { w } = this;
    const path = `topics.${key}`;
    if (!TOPIC_NAME.test(key)) {
      w.fail(keyNode, path, 'a topic key may contain only letters, digits, ".", "_" or "-"');
      return undefined;
    }
    const node = w.node(['topics', key]);
    if (!isMap(node)) {
      w.fail(node ?? keyNode, path, 'must be a map with `models`');
      return undefined;
    }
    w.checkKeys(node, path, TOPIC_KEYS);
    const partitionKey = w.optionalString(['topics', key, 'partition_key'], `${path}.partition_key`, defaults.partitionKey);
    const genesisReplica = w.optionalBoolean(['topics', key, 'genesis_replica'], `${path}.genesis_replica`, false);
    const coalesce = w.optionalBoolean(['topics', key, 'coalesce'], `${path}.coalesce`, false);
    const ordering = w.optionalString(['topics', key, 'ordering'], `${path}.ordering`, 'snapshot');
    if (ordering !== 'snapshot' && ordering !== 'strict') w.fail(w.node(['topics', key, 'ordering']), `${path}.ordering`, 'must be snapshot or strict');
    if (ordering === 'strict' && coalesce) {
      w.fail(w.node(['topics', key, 'coalesce']), `${path}.coalesce`, 'coalescing would merge rows whose order strict ordering keeps');
    }
    const modelsNode = w.node(['topics', key, 'models']);
    if (!isMap(modelsNode) || modelsNode.items.length === 0) {
      w.fail(modelsNode ?? node, `${path}.models`, 'a topic needs at least one model (`models: {Model: {sql: ...}}`)');
      return undefined;
    }
    const models = new Map<string, ModelConfig>();
    const dependencies = new Map<string, DependencyConfig[]>();
    for (const { key: name, node: nameNode } of w.keys(['topics', key, 'models'])) {
      const model = parseModel(w, ['topics', key, 'models', name], name, nameNode, { partitionKey, softDeleteColumn: defaults.softDeleteColumn });
      if (!model) continue;
      models.set(name, model);
      for (const dependency of parseDependencies(w, key, name)) {
        dependencies.set(dependency.name, [...(dependencies.get(dependency.name) ?? []), dependency]);
      }
    }
    for (const dependencyName of dependencies.keys()) {
      if (models.has(dependencyName)) {
        w.fail(w.node(['topics', key, 'models']), `${path}.models`, `${dependencyName} is both a published model and a dependency on this topic`);
      }
    }
    const name = namespace === '' ? key : `${namespace}_${key}`;
    return { key, name, genesisReplica, coalesce, ordering: ordering === 'strict' ? 'strict' : 'snapshot', models, dependencies };
  }

  /** `serializers:`: models that are only sideloaded, by class name. */
  private serializers(): Map<string, ModelConfig> {
    const { w } = this;
    const result = new Map<string, ModelConfig>();
    const node = w.node(['serializers']);
    if (node === undefined || (isScalar(node) && node.value === null)) return result;
    if (!isMap(node)) {
      w.fail(node, 'serializers', 'must be a map of class names to serializers (`sql` or `view`)');
      return result;
    }
    for (const { key: name, node: nameNode } of w.keys(['serializers'])) {
      const model = parseModel(w, ['serializers', name], name, nameNode, undefined);
      if (model) result.set(name, model);
    }
    return result;
  }

  /** A sideloaded relationship needs the related model's serializer: on its topic or under `serializers:`. */
  private checkSideloads(topics: readonly TopicConfig[], serializers: ReadonlyMap<string, ModelConfig>): void {
    for (const topic of topics) {
      for (const model of topic.models.values()) {
        for (const rel of model.relationships) {
          if (!rel.sideload || rel.model === undefined || topic.models.has(rel.model) || serializers.has(rel.model)) continue;
          this.w.fail(
            this.w.node(rel.path.split('.')),
            `${rel.path}.sideload`,
            `${rel.model} has no serializer to sideload it with: publish it on topic ${topic.key} or declare it under \`serializers: ${rel.model}: {sql: ...}\``,
          );
        }
      }
    }
  }

  private observers(topics: readonly TopicConfig[]): ObserverConfig[] {
    const { w } = this;
    const node = w.node(['observers']);
    if (node === undefined) return [];
    if (!isMap(node)) {
      w.fail(node, 'observers', 'must be a map of observer names');
      return [];
    }
    const result: ObserverConfig[] = [];
    for (const { key: name, node: keyNode } of w.keys(['observers'])) {
      const path = `observers.${name}`;
      const at = (k: string): string[] => ['observers', name, k];
      const obs = w.node(['observers', name]);
      if (!isMap(obs)) {
        w.fail(obs ?? keyNode, path, 'must be a map with model, attributes, topic, republish, sql');
        continue;
      }
      w.checkKeys(obs, path, OBSERVER_KEYS);
      const model = w.optionalString(at('model'), `${path}.model`, '');
      const topicKey = w.optionalString(at('topic'), `${path}.topic`, '');
      const republish = w.optionalString(at('republish'), `${path}.republish`, '');
      const sql = w.optionalString(at('sql'), `${path}.sql`, '');
      const attrsNode = w.node(at('attributes'));
      const attributes = isSeq(attrsNode) ? attrsNode.items.map((i) => (isScalar(i) ? String(i.value) : '')) : [];
      if (!CLASS_NAME.test(model)) w.fail(w.node(at('model')) ?? obs, `${path}.model`, 'required: the observed class name');
      if (attributes.length === 0 || attributes.some((a) => !IDENTIFIER.test(a))) {
        w.fail(attrsNode ?? obs, `${path}.attributes`, 'required: a list of attribute names whose change triggers the observer');
      }
      const topic = topics.find((t) => t.key === topicKey || t.name === topicKey);
      if (topic === undefined) {
        w.fail(w.node(at('topic')) ?? obs, `${path}.topic`, `must name a topic of this file (got "${topicKey}")`);
        continue;
      }
      if (!topic.models.has(republish)) {
        w.fail(w.node(at('republish')) ?? obs, `${path}.republish`, `must be a model of topic ${topic.key} (got "${republish}")`);
        continue;
      }
      if (!/\$1(?!\d)/.test(sql)) {
        w.fail(w.node(at('sql')) ?? obs, `${path}.sql`, "required: a statement taking $1 (observed ids) and returning the related records' id");
        continue;
      }
      if (/\$([2-9]|\d\d)/.test(sql)) {
        // The relay pages through the statement's result with parameters of its own.
        w.fail(w.node(at('sql')) ?? obs, `${path}.sql`, 'the statement may only use $1');
        continue;
      }
      result.push({ name, model, attributes, topic, republish, sql, path });
    }
    return result;
  }
}
