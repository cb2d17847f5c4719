import { readFileSync } from 'node:fs';
import { isMap } from 'yaml';
import { RelayError, errorMessage } from '../errors';
import {
  DEFAULT_SYNCED_COLUMNS,
  gemGroupId,
  type ModelMapping,
  type PoisonHandling,
  type PruneMode,
  type RelationshipConfig,
  type SinkConfig,
  type SinkTopicConfig,
  type SoftDeleteStrategy,
  type SyncedColumns,
} from './sink-types';
import { YamlReader } from './yaml-reader';

const ROOT_KEYS = ['group_id', 'client_id', 'namespace', 'defaults', 'topics', 'models', 'inbox', 'librdkafka'];
const TOPIC_KEYS = ['soft_delete', 'on_poison', 'dead_letter_topic', 'strict_mapping'];
const DEFAULT_KEYS = [...TOPIC_KEYS, 'columns'];
const MODEL_KEYS = ['table', 'ignore', 'rename', 'columns', 'relationships'];
const RELATIONSHIP_KEYS = ['foreign_key', 'prune'];
const COLUMN_KEYS: ReadonlyArray<readonly [string, keyof SyncedColumns]> = [
  ['synced_id', 'id'],
  ['synced_data', 'data'],
  ['synced_created_at', 'createdAt'],
  ['synced_updated_at', 'updatedAt'],
  ['synced_canceled_at', 'canceledAt'],
];
/** Settings the sink owns: offsets are committed by the sink after its transaction, never by librdkafka. */
const RESERVED_LIBRDKAFKA = ['group.id', 'enable.auto.commit', 'enable.auto.offset.store', 'rebalance_cb', 'offset_commit_cb'];

const IDENTIFIER = { test: /^[A-Za-z_][A-Za-z0-9_]*$/, says: 'must be a column name (letters, digits, _)' };
const TABLE = { test: /^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/, says: 'must be a table name, optionally schema-qualified' };
const TOPIC_NAME = { test: /^[A-Za-z0-9._-]+$/, says: 'must contain only letters, digits, ".", "_" or "-"' };
const MODEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*$/;

/** Reads and validates the sink YAML; every problem names the file, the key path and the line. */
export function loadSinkFile(file: string): SinkConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RelayError('SINK_FILE_INVALID', `${file}: cannot read the sink file: ${errorMessage(err)}`, { cause: err, context: { file } });
  }
  return parseSinkYaml(text, file);
}

export function parseSinkYaml(text: string, file: string): SinkConfig {
  const y = new YamlReader(text, file);
  const config = y.problems.length === 0 ? readRoot(y) : undefined;
  if (config === undefined || y.problems.length > 0) {
    throw new RelayError('SINK_FILE_INVALID', y.problems.join('\n'), { context: { file, problems: y.problems } });
  }
  return config;
}

interface TopicDefaults {
  readonly softDelete: SoftDeleteStrategy;
  readonly onPoison: PoisonHandling;
  readonly deadLetterTopic: string;
  readonly strictMapping: boolean;
}

function readRoot(y: YamlReader): SinkConfig | undefined {
  if (!isMap(y.root)) {
    y.fail(y.root, [], 'the sink file must be a map with `group_id` (or `client_id`), `topics` and `models`');
    return undefined;
  }
  y.mapKeys([], ROOT_KEYS);
  const clientId = y.string(['client_id'], '', TOPIC_NAME);
  const groupId = y.string(['group_id'], clientId === '' ? '' : gemGroupId(clientId));
  if (groupId === '') y.fail(y.root, ['group_id'], 'required: the Kafka consumer group (or client_id, for the gem\'s default group <client_id>_dionysus_consumer_group_for_<client_id>)');
  const namespace = y.string(['namespace'], '', TOPIC_NAME);
  y.mapKeys(['defaults'], DEFAULT_KEYS);
  const defaults = readTopicSettings(y, ['defaults'], {
    softDelete: 'cancel',
    onPoison: 'dead_letter',
    deadLetterTopic: groupId === '' ? '' : `${groupId}_dead_letters`,
    strictMapping: false,
  });
  const defaultColumns = readColumns(y, ['defaults', 'columns'], DEFAULT_SYNCED_COLUMNS);

  const topicKeys = y.mapKeys(['topics'], undefined, 'a map of topic keys');
  if (topicKeys.length === 0) y.fail(y.node(['topics']) ?? y.root, ['topics'], 'must be a map with at least one topic (`users: {}`)');
  const topics: SinkTopicConfig[] = [];
  const byName = new Map<string, SinkTopicConfig>();
  for (const key of topicKeys) {
    const path = ['topics', key];
    if (!TOPIC_NAME.test.test(key)) y.fail(y.node(path), path, `topic key ${TOPIC_NAME.says}`);
    y.mapKeys(path, TOPIC_KEYS);
    const settings = readTopicSettings(y, path, defaults);
    const name = namespace === '' ? key : `${namespace}_${key}`;
    const topic: SinkTopicConfig = { key, name, ...settings, deadLetterTopic: settings.onPoison === 'dead_letter' ? settings.deadLetterTopic : undefined, path: path.join('.') };
    if (byName.has(name)) y.fail(y.node(path), path, `topic ${name} is declared twice`);
    if (topic.deadLetterTopic === name) y.fail(y.node(path), path, 'the dead-letter topic must not be the topic itself');
    byName.set(name, topic);
    topics.push(topic);
  }

  const models = new Map<string, ModelMapping>();
  for (const name of y.mapKeys(['models'], undefined, 'a map of model names')) {
    const model = readModel(y, name, defaultColumns);
    if (model !== undefined) models.set(name, model);
  }
  if (models.size === 0) y.fail(y.node(['models']) ?? y.root, ['models'], 'must map at least one model to a table (`User: {table: users}`)');
  for (const model of models.values()) {
    for (const rel of model.relationships.values()) {
      if (rel.prune !== 'none' && models.get(rel.name)?.table === undefined) {
        y.fail(y.node(['models', model.name, 'relationships', rel.name]), rel.path.split('.'), `pruning needs a table for "${rel.name}" under models`);
      }
    }
  }
  y.mapKeys(['inbox'], ['table']);
  const inbox = y.string(['inbox', 'table'], '', TABLE);
  const librdkafka: Record<string, string | number | boolean> = {};
  for (const key of y.mapKeys(['librdkafka'])) {
    if (RESERVED_LIBRDKAFKA.includes(key)) {
      y.fail(y.node(['librdkafka', key]), ['librdkafka', key], 'is set by the sink (group_id; offsets are committed after each transaction)');
      continue;
    }
    const value = y.scalar(['librdkafka', key]);
    if (value !== undefined) librdkafka[key] = value;
  }
  return { file: y.file, groupId, namespace, topics, byName, models, inboxTable: inbox === '' ? undefined : inbox, librdkafka };
}

function readTopicSettings(y: YamlReader, path: readonly string[], fallback: TopicDefaults): TopicDefaults {
  const onPoison = y.oneOf<PoisonHandling>([...path, 'on_poison'], ['dead_letter', 'stop'], fallback.onPoison);
  const deadLetterTopic = y.string([...path, 'dead_letter_topic'], fallback.deadLetterTopic, TOPIC_NAME);
  return {
    softDelete: y.oneOf<SoftDeleteStrategy>([...path, 'soft_delete'], ['cancel', 'delete'], fallback.softDelete),
    onPoison,
    deadLetterTopic,
    strictMapping: y.boolean([...path, 'strict_mapping'], fallback.strictMapping),
  };
}

function readColumns(y: YamlReader, path: readonly string[], fallback: SyncedColumns): SyncedColumns {
  y.mapKeys(path, COLUMN_KEYS.map(([key]) => key));
  const columns = { ...fallback };
  for (const [key, field] of COLUMN_KEYS) columns[field] = y.string([...path, key], fallback[field], IDENTIFIER);
  return columns;
}

function readModel(y: YamlReader, name: string, defaultColumns: SyncedColumns): ModelMapping | undefined {
  const base = ['models', name];
  const path = base.join('.');
  if (!MODEL_NAME.test(name)) {
    y.fail(y.node(base), base, 'a model is named as in model_name (User, Admin::User) or by a relationship name (bookings)');
    return undefined;
  }
  y.mapKeys(base, MODEL_KEYS, 'a map with `table` (or `ignore: true`)');
  const ignore = y.boolean([...base, 'ignore'], false);
  const table = y.string([...base, 'table'], '', TABLE);
  if (ignore === (table !== '')) {
    y.fail(y.node(base), base, 'needs exactly one of `table` (the synced table) or `ignore: true` (skip its events, even with strict_mapping)');
  }
  const rename = new Map<string, string>();
  for (const remote of y.mapKeys([...base, 'rename'], undefined, 'a map of remote attribute → local column')) {
    rename.set(remote, y.string([...base, 'rename', remote], remote, IDENTIFIER));
  }
  const relationships = new Map<string, RelationshipConfig>();
  for (const rel of y.mapKeys([...base, 'relationships'], undefined, 'a map of relationship names')) {
    const relPath = [...base, 'relationships', rel];
    y.mapKeys(relPath, RELATIONSHIP_KEYS);
    const foreignKey = y.string([...relPath, 'foreign_key'], '', IDENTIFIER);
    const prune = y.oneOf<PruneMode>([...relPath, 'prune'], ['none', 'delete', 'cancel'], 'none');
    if (prune !== 'none' && foreignKey === '') y.fail(y.node(relPath), [...relPath, 'foreign_key'], 'required with prune: the column of the related table that holds this record\'s synced_id');
    relationships.set(rel, { name: rel, foreignKey: foreignKey === '' ? undefined : foreignKey, prune, path: relPath.join('.') });
  }
  return {
    name,
    table: ignore ? undefined : table,
    rename,
    columns: readColumns(y, [...base, 'columns'], defaultColumns),
    relationships,
    path,
  };
}
