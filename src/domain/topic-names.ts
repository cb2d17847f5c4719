/** Suffix of the replica topic that receives a copy of every message of a genesis-replica topic. */
export const GENESIS_SUFFIX = '_genesis';

/** The pseudo-topic of observer rows: claimed like a topic, never sent to Kafka under this name. */
export const OBSERVER_TOPIC = '__outbox_observer__';

/** The Kafka topics a message of `topic` goes to: the topic itself, then its `_genesis` replica. */
export function kafkaTopicsOf(topic: string, genesisReplica: boolean): string[] {
  return genesisReplica ? [topic, topic + GENESIS_SUFFIX] : [topic];
}
