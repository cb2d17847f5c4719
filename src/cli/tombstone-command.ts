import { loadConfiguration } from '../config/load-configuration';
import { tombstoneMessages } from '../domain/message-builder';
import { GENESIS_SUFFIX } from '../config/topics-types';
import { RelayError } from '../errors';
import { KafkaPublisher } from '../kafka/publisher';
import { producerConfig } from '../kafka/librdkafka-config';
import type { CliArgs } from './args';
import { tombstoneTarget } from './tombstone-target';

/** `dionysus-relay tombstone`: one null-valued message for one resource, keyed and partitioned as usual. */
export async function tombstoneCommand(args: CliArgs, env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const { settings, topics } = loadConfiguration(args, env);
  const target = tombstoneTarget(topics, args.topic as string, args.model as string, args.force === true);
  for (const note of target.notes) out(note);
  const { topicName, genesisReplica } = target;
  const publisher = new KafkaPublisher({ config: producerConfig(settings.kafka), metadataRefreshMs: 0 });
  await publisher.start();
  try {
    const names = genesisReplica ? [topicName, topicName + GENESIS_SUFFIX] : [topicName];
    await publisher.refreshPartitions(names);
    const messages = tombstoneMessages({
      topicName,
      genesisReplica,
      resourceClass: args.model as string,
      resourceId: args.id as string,
      partitionKey: args.partitionKey ?? null,
      legacyNullString: args.legacyNull === true,
      partitionCount: (t) => publisher.partitionCount(t),
    });
    const outcomes = await (await publisher.enqueueAll(messages)).settled;
    const failure = outcomes.find((o): o is RelayError => o !== null);
    if (failure !== undefined) throw failure;
    for (const m of messages) {
      out(`tombstone ${m.key} → ${m.topic} partition ${m.partition} (${m.value === null ? 'null value' : 'legacy "null" string'})`);
    }
    return 0;
  } finally {
    await publisher.stop();
  }
}
