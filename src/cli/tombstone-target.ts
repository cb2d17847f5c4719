import { GENESIS_SUFFIX, type TopicsConfig } from '../config/topics-types';
import { UsageError } from './usage-error';

/** Where a tombstone goes: the topic name, whether its genesis replica gets one too, and notes for the user. */
export interface TombstoneTarget {
  readonly topicName: string;
  readonly genesisReplica: boolean;
  readonly notes: readonly string[];
}

/**
 * Resolves `--topic` (key, full name, or `<topic>_genesis` of a genesis replica) and checks `--model`
 * against the topics YAML, before anything connects. A topic or model that is not configured is
 * most likely a typo that would leave the real key alive: it needs `--force`.
 */
export function tombstoneTarget(topics: TopicsConfig, wanted: string, model: string, force: boolean): TombstoneTarget {
  const find = (name: string) => topics.byName.get(name) ?? topics.topics.find((t) => t.key === name);
  const base = wanted.endsWith(GENESIS_SUFFIX) ? find(wanted.slice(0, -GENESIS_SUFFIX.length)) : undefined;
  const topic = find(wanted) ?? (base?.genesisReplica === true ? base : undefined);
  if (topic === undefined) {
    const known = topics.topics.map((t) => t.name).join(', ');
    if (!force) {
      throw new UsageError(`tombstone --topic ${wanted}: not in ${topics.file} (topics: ${known}); check the name, or add --force to send to it anyway`);
    }
    return { topicName: wanted, genesisReplica: false, notes: [`note: ${wanted} is not in ${topics.file}; sending to it as a plain topic (--force)`] };
  }
  const notes: string[] = [];
  if (!topic.models.has(model)) {
    const known = [...topic.models.keys()].join(', ');
    if (!force) {
      throw new UsageError(`tombstone --model ${model}: not a model of topic ${topic.name} in ${topics.file} (models: ${known}); check the name, or add --force to send anyway`);
    }
    notes.push(`note: ${model} is not a model of ${topic.name} in ${topics.file}; sending anyway (--force)`);
  }
  // `<topic>_genesis` sends to the replica only; the primary's name sends to both when it has one.
  if (topic !== find(wanted)) return { topicName: topic.name + GENESIS_SUFFIX, genesisReplica: false, notes };
  return { topicName: topic.name, genesisReplica: topic.genesisReplica, notes };
}
