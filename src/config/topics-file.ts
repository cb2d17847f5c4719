import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { RelayError, errorMessage } from '../errors';
import {
  DEFAULT_PARTITION_KEY_ATTRIBUTE,
  DEFAULT_SOFT_DELETE_COLUMN,
  GENESIS_SUFFIX,
  DEFAULT_OBSERVER_INLINE_LIMIT,
  type DependencyConfig,
  type ObserverConfig,
  type IdType,
  type ModelConfig,
  type TopicConfig,
  type TopicsConfig,
} from './topics-types';

const ROOT_KEYS = ['namespace', 'defaults', 'topics', 'observers', 'observer_inline_limit'] as const;
const OBSERVER_KEYS = ['model', 'attributes', 'topic', 'republish', 'sql'] as const;
const DEFAULTS_KEYS = ['partition_key', 'soft_delete_column'] as const;
const TOPIC_KEYS = ['partition_key', 'genesis_replica', 'coalesce', 'ordering', 'models'] as const;
const MODEL_KEYS = ['sql', 'view', 'id_type', 'partition_key', 'dependencies', 'table', 'soft_delete_column'] as const;
const DEPENDENCY_KEYS = ['parents_sql', 'parent_from_changeset'] as const;
const ID_TYPES: readonly IdType[] = ['integer', 'uuid', 'string'];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TOPIC_NAME = /^[A-Za-z0-9._-]+$/;
const CLASS_NAME = /^[A-Z][A-Za-z0-9_]*(::[A-Z][A-Za-z0-9_]*)*$/;
const VIEW_NAME = /^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/;

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

  const walker = new Walker(doc, file, at, problems);
  const config = walker.root();
  if (problems.length > 0 || config === undefined) throw invalid(file, problems);
  return config;
}

function invalid(file: string, problems: string[]): RelayError {
  return new RelayError('TOPICS_FILE_INVALID', problems.join('\n'), { context: { file, problems } });
}

/** Values a model inherits when it does not set them itself. */
interface ModelDefaults {
  readonly partitionKey: string;
  readonly softDeleteColumn: string;
}

/** Walks the YAML tree with paths and line numbers, collecting every problem instead of the first. */
class Walker {
  constructor(
    private readonly doc: Document,
    private readonly file: string,
    private readonly at: (node: YamlNode | null | undefined) => string,
    private readonly problems: string[],
  ) {}

  root(): TopicsConfig | undefined {
    const root = this.doc.contents;
    if (!isMap(root)) {
      this.fail(root as YamlNode | null, '', 'the topics file must be a map with `namespace` and `topics`');
      return undefined;
    }
    this.checkKeys(root, '', ROOT_KEYS);
    const namespace = this.optionalString(['namespace'], 'namespace', '');
    if (namespace !== '' && !TOPIC_NAME.test(namespace)) {
      this.fail(this.node(['namespace']), 'namespace', 'must contain only letters, digits, ".", "_" or "-"');
    }
    const defaults = this.node(['defaults']);
    if (defaults !== undefined) {
      if (isMap(defaults)) this.checkKeys(defaults, 'defaults', DEFAULTS_KEYS);
      else this.fail(defaults, 'defaults', 'must be a map');
    }
    const defaultPartitionKey = this.optionalString(
      ['defaults', 'partition_key'],
      'defaults.partition_key',
      DEFAULT_PARTITION_KEY_ATTRIBUTE,
    );
    const defaultSoftDelete = this.optionalString(['defaults', 'soft_delete_column'], 'defaults.soft_delete_column', DEFAULT_SOFT_DELETE_COLUMN);
    if (!IDENTIFIER.test(defaultSoftDelete)) {
      this.fail(this.node(['defaults', 'soft_delete_column']), 'defaults.soft_delete_column', 'must be a column name');
    }
    const topicsNode = this.node(['topics']);
    if (!isMap(topicsNode) || topicsNode.items.length === 0) {
      this.fail(topicsNode ?? root, 'topics', 'must be a map with at least one topic');
      return undefined;
    }
    const topics: TopicConfig[] = [];
    for (const pair of topicsNode.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const topic = this.topic(namespace, key, pair.key as YamlNode, { partitionKey: defaultPartitionKey, softDeleteColumn: defaultSoftDelete });
      if (topic) topics.push(topic);
    }
    const byName = new Map<string, TopicConfig>();
    for (const t of topics) {
      if (byName.has(t.name)) this.fail(this.node(['topics', t.key]), `topics.${t.key}`, `topic name ${t.name} is declared twice`);
      byName.set(t.name, t);
      if (t.name.endsWith(GENESIS_SUFFIX)) {
        this.fail(this.node(['topics', t.key]), `topics.${t.key}`, `a topic name must not end with ${GENESIS_SUFFIX} (reserved for replicas)`);
      }
    }
    const observers = this.observers(topics);
    const limitNode = this.node(['observer_inline_limit']);
    let observerInlineLimit = DEFAULT_OBSERVER_INLINE_LIMIT;
    if (limitNode !== undefined) {
      const value = isScalar(limitNode) ? limitNode.value : undefined;
      if (typeof value === 'number' && Number.isInteger(value) && value >= 0) observerInlineLimit = value;
      else this.fail(limitNode, 'observer_inline_limit', 'must be a whole number (records sent inline before handing over to the outbox)');
    }
    return { file: this.file, namespace, topics, byName, observers, observerInlineLimit };
  }

  private topic(namespace: string, key: string, keyNode: YamlNode, defaults: ModelDefaults): TopicConfig | undefined {
    const path = `topics.${key}`;
    if (!TOPIC_NAME.test(key)) {
      this.fail(keyNode, path, 'a topic key may contain only letters, digits, ".", "_" or "-"');
      return undefined;
    }
    const node = this.node(['topics', key]);
    if (!isMap(node)) {
      this.fail(node ?? keyNode, path, 'must be a map with `models`');
      return undefined;
    }
    this.checkKeys(node, path, TOPIC_KEYS);
    const partitionKey = this.optionalString(['topics', key, 'partition_key'], `${path}.partition_key`, defaults.partitionKey);
    const genesisReplica = this.optionalBoolean(['topics', key, 'genesis_replica'], `${path}.genesis_replica`, false);
    const coalesce = this.optionalBoolean(['topics', key, 'coalesce'], `${path}.coalesce`, false);
    const ordering = this.optionalString(['topics', key, 'ordering'], `${path}.ordering`, 'snapshot');
    if (ordering !== 'snapshot' && ordering !== 'strict') {
      this.fail(this.node(['topics', key, 'ordering']), `${path}.ordering`, 'must be snapshot or strict');
    }
    if (ordering === 'strict' && coalesce) {
      this.fail(this.node(['topics', key, 'coalesce']), `${path}.coalesce`, 'coalescing would merge rows whose order strict ordering keeps');
    }
    const modelsNode = this.node(['topics', key, 'models']);
    if (!isMap(modelsNode) || modelsNode.items.length === 0) {
      this.fail(modelsNode ?? node, `${path}.models`, 'a topic needs at least one model (`models: {Model: {sql: ...}}`)');
      return undefined;
    }
    const models = new Map<string, ModelConfig>();
    const dependencies = new Map<string, DependencyConfig[]>();
    for (const pair of modelsNode.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      const model = this.model(key, name, pair.key as YamlNode, { partitionKey, softDeleteColumn: defaults.softDeleteColumn });
      if (!model) continue;
      models.set(name, model);
      for (const dependency of this.dependencies(key, name)) {
        dependencies.set(dependency.name, [...(dependencies.get(dependency.name) ?? []), dependency]);
      }
    }
    for (const dependencyName of dependencies.keys()) {
      if (models.has(dependencyName)) {
        this.fail(this.node(['topics', key, 'models']), `${path}.models`, `${dependencyName} is both a published model and a dependency on this topic`);
      }
    }
    const name = namespace === '' ? key : `${namespace}_${key}`;
    return { key, name, genesisReplica, coalesce, ordering: ordering === 'strict' ? 'strict' : 'snapshot', models, dependencies };
  }

  private model(topicKey: string, name: string, keyNode: YamlNode, defaults: ModelDefaults): ModelConfig | undefined {
    const base = ['topics', topicKey, 'models', name];
    const path = `topics.${topicKey}.models.${name}`;
    if (!CLASS_NAME.test(name)) {
      this.fail(keyNode, path, 'a model is named by its class name, e.g. User or Admin::User');
      return undefined;
    }
    const node = this.node(base);
    if (!isMap(node)) {
      this.fail(node ?? keyNode, path, 'must be a map with `sql` or `view`');
      return undefined;
    }
    this.checkKeys(node, path, MODEL_KEYS);
    const sql = this.optionalString([...base, 'sql'], `${path}.sql`, '');
    const view = this.optionalString([...base, 'view'], `${path}.view`, '');
    const idTypeText = this.optionalString([...base, 'id_type'], `${path}.id_type`, '');
    const partitionKey = this.optionalString([...base, 'partition_key'], `${path}.partition_key`, defaults.partitionKey);
    const table = this.optionalString([...base, 'table'], `${path}.table`, '');
    const softDeleteColumn = this.optionalString([...base, 'soft_delete_column'], `${path}.soft_delete_column`, defaults.softDeleteColumn);
    if ((sql === '') === (view === '')) {
      this.fail(node, path, 'needs exactly one of `sql` (a statement taking $1, the array of ids) or `view`');
      return undefined;
    }
    if (sql !== '' && !/\$1(?!\d)/.test(sql)) {
      this.fail(this.node([...base, 'sql']), `${path}.sql`, 'the statement must use $1, the array of resource ids (e.g. WHERE id = ANY($1::bigint[]))');
    }
    if (sql !== '' && /\$([2-9]|\d\d)/.test(sql)) {
      this.fail(this.node([...base, 'sql']), `${path}.sql`, 'the statement may only use $1');
    }
    if (view !== '' && !VIEW_NAME.test(view)) {
      this.fail(this.node([...base, 'view']), `${path}.view`, 'must be a view name, optionally schema-qualified');
    }
    if (idTypeText !== '' && !ID_TYPES.includes(idTypeText as IdType)) {
      this.fail(this.node([...base, 'id_type']), `${path}.id_type`, `must be one of ${ID_TYPES.join(', ')}`);
    }
    if (!IDENTIFIER.test(partitionKey)) {
      this.fail(this.node([...base, 'partition_key']), `${path}.partition_key`, 'must be an attribute name');
    }
    if (table !== '' && !VIEW_NAME.test(table)) {
      this.fail(this.node([...base, 'table']), `${path}.table`, 'must be a table or view name, optionally schema-qualified');
    }
    if (!IDENTIFIER.test(softDeleteColumn)) {
      this.fail(this.node([...base, 'soft_delete_column']), `${path}.soft_delete_column`, 'must be a column name');
    }
    return {
      name,
      source: sql !== '' ? { kind: 'sql', sql } : { kind: 'view', view },
      idType: idTypeText === '' ? undefined : (idTypeText as IdType),
      partitionKey,
      table: table === '' ? undefined : table,
      softDeleteColumn,
      path,
    };
  }

  private observers(topics: readonly TopicConfig[]): ObserverConfig[] {
    const node = this.node(['observers']);
    if (node === undefined) return [];
    if (!isMap(node)) {
      this.fail(node, 'observers', 'must be a map of observer names');
      return [];
    }
    const result: ObserverConfig[] = [];
    for (const pair of node.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      const path = `observers.${name}`;
      const obs = this.node(['observers', name]);
      if (!isMap(obs)) {
        this.fail(obs ?? (pair.key as YamlNode), path, 'must be a map with model, attributes, topic, republish, sql');
        continue;
      }
      this.checkKeys(obs, path, OBSERVER_KEYS);
      const model = this.optionalString(['observers', name, 'model'], `${path}.model`, '');
      const topicKey = this.optionalString(['observers', name, 'topic'], `${path}.topic`, '');
      const republish = this.optionalString(['observers', name, 'republish'], `${path}.republish`, '');
      const sql = this.optionalString(['observers', name, 'sql'], `${path}.sql`, '');
      const attrsNode = this.node(['observers', name, 'attributes']);
      const attributes = isSeq(attrsNode) ? attrsNode.items.map((i) => (isScalar(i) ? String(i.value) : '')) : [];
      if (!CLASS_NAME.test(model)) this.fail(this.node(['observers', name, 'model']) ?? obs, `${path}.model`, 'required: the observed class name');
      if (attributes.length === 0 || attributes.some((a) => !IDENTIFIER.test(a))) {
        this.fail(attrsNode ?? obs, `${path}.attributes`, 'required: a list of attribute names whose change triggers the observer');
      }
      const topic = topics.find((t) => t.key === topicKey || t.name === topicKey);
      if (topic === undefined) {
        this.fail(this.node(['observers', name, 'topic']) ?? obs, `${path}.topic`, `must name a topic of this file (got "${topicKey}")`);
        continue;
      }
      if (!topic.models.has(republish)) {
        this.fail(this.node(['observers', name, 'republish']) ?? obs, `${path}.republish`, `must be a model of topic ${topic.key} (got "${republish}")`);
        continue;
      }
      if (!/\$1(?!\d)/.test(sql)) {
        this.fail(this.node(['observers', name, 'sql']) ?? obs, `${path}.sql`, 'required: a statement taking $1 (observed ids) and returning the related records\' id');
        continue;
      }
      result.push({ name, model, attributes, topic, republish, sql, path });
    }
    return result;
  }

  private dependencies(topicKey: string, parentModel: string): DependencyConfig[] {
    const base = ['topics', topicKey, 'models', parentModel, 'dependencies'];
    const path = `topics.${topicKey}.models.${parentModel}.dependencies`;
    const node = this.node(base);
    if (node === undefined) return [];
    if (!isMap(node)) {
      this.fail(node, path, 'must be a map of dependency class names');
      return [];
    }
    const result: DependencyConfig[] = [];
    for (const pair of node.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : '';
      const depPath = `${path}.${name}`;
      if (!CLASS_NAME.test(name)) {
        this.fail(pair.key as YamlNode, depPath, 'a dependency is named by its class name, e.g. BookingsFee');
        continue;
      }
      const depNode = this.node([...base, name]);
      if (!isMap(depNode)) {
        this.fail(depNode ?? (pair.key as YamlNode), depPath, 'must be a map with `parents_sql`');
        continue;
      }
      this.checkKeys(depNode, depPath, DEPENDENCY_KEYS);
      const parentsSql = this.optionalString([...base, name, 'parents_sql'], `${depPath}.parents_sql`, '');
      if (parentsSql === '' || !/\$1(?!\d)/.test(parentsSql)) {
        this.fail(depNode, `${depPath}.parents_sql`, 'required: a statement taking $1 (dependency ids) and returning dependency_id, parent_id');
        continue;
      }
      const fromChangeset = this.optionalString([...base, name, 'parent_from_changeset'], `${depPath}.parent_from_changeset`, '');
      result.push({ name, parentModel, parentsSql, parentFromChangeset: fromChangeset === '' ? undefined : fromChangeset, path: depPath });
    }
    return result;
  }

  private node(path: string[]): YamlNode | undefined {
    return this.doc.getIn(path, true) as YamlNode | undefined;
  }

  private checkKeys(map: { items: Array<{ key: unknown }> }, path: string, allowed: readonly string[]): void {
    for (const pair of map.items) {
      const keyNode = pair.key as YamlNode;
      const key = isScalar(keyNode) ? String(keyNode.value) : '?';
      if (!allowed.includes(key)) {
        const where = path === '' ? key : `${path}.${key}`;
        this.fail(keyNode, where, `unknown key (expected one of: ${allowed.join(', ')})`);
      }
    }
  }

  private optionalString(path: string[], name: string, fallback: string): string {
    const node = this.node(path);
    if (node === undefined || (isScalar(node) && node.value === null)) return fallback;
    if (isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')) {
      return String(node.value).trim();
    }
    this.fail(node, name, 'must be a string');
    return fallback;
  }

  private optionalBoolean(path: string[], name: string, fallback: boolean): boolean {
    const node = this.node(path);
    if (node === undefined || (isScalar(node) && node.value === null)) return fallback;
    if (isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.fail(node, name, 'must be true or false');
    return fallback;
  }

  private fail(node: YamlNode | null | undefined, key: string, reason: string): void {
    this.problems.push(`${this.file}${this.at(node)}: ${key === '' ? '(root)' : key}: ${reason}`);
  }
}
