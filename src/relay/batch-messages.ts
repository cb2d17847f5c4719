import type { Logger } from 'pino';
import type { TopicConfig } from '../config/topics-types';
import { planRow, type OutgoingMessage } from '../domain/message-builder';
import { EncodingError } from '../domain/rails-json';
import { kafkaTopicsOf } from '../domain/topic-names';
import { RelayError, errorMessage } from '../errors';
import type { LoadResult } from '../postgres/serializer-loader';
import type { MessageSink, RecordSource } from './batch-ports';
import type { RowTargets, Target } from './batch-targets';

/** The messages a row sends (none: nothing to send), or why it cannot send them. */
export type RowMessages = readonly OutgoingMessage[] | RelayError;

/** The records of a batch's targets, by (topic, model). */
export type LoadedRecords = ReadonlyMap<string, LoadResult>;

const groupKey = (topic: string, model: string): string => `${topic}\u0000${model}`;

/**
 * Loads every target's record with one serializer query per (topic, model), and refreshes the
 * partition counts of every Kafka topic the messages will go to.
 */
export async function loadRecords(records: RecordSource, kafka: MessageSink, targets: readonly RowTargets[]): Promise<LoadedRecords> {
  const groups = new Map<string, { topic: TopicConfig; model: string; ids: Set<string> }>();
  for (const row of targets) {
    if (row instanceof RelayError) continue;
    for (const t of row) {
      const key = groupKey(t.topic.name, t.model);
      const group = groups.get(key) ?? { topic: t.topic, model: t.model, ids: new Set<string>() };
      group.ids.add(t.resourceId);
      groups.set(key, group);
    }
  }
  const loads = new Map(
    await Promise.all([...groups.entries()].map(async ([key, g]): Promise<[string, LoadResult]> => [key, await records.load(g.topic.name, g.model, [...g.ids])])),
  );
  const kafkaTopics = new Set<string>();
  for (const g of groups.values()) for (const name of kafkaTopicsOf(g.topic.name, g.topic.genesisReplica)) kafkaTopics.add(name);
  await kafka.refreshPartitions(kafkaTopics);
  return loads;
}

export interface MessageBuilding {
  readonly records: RecordSource;
  readonly kafka: MessageSink;
  readonly logger: Logger;
}

/**
 * Each row's messages, built from its targets' records (planRow: the gem's key, partition and
 * envelope). A record the serializer failed for, or one that cannot be encoded, fails its row; a
 * created/updated resource that no longer exists sends nothing (logged).
 */
export function buildMessages(deps: MessageBuilding, rowIds: readonly string[], targets: readonly RowTargets[], loaded: LoadedRecords): RowMessages[] {
  const partitionCount = (topic: string): number => deps.kafka.partitionCount(topic);
  return targets.map((row, i) => (row instanceof RelayError ? row : rowMessages(deps, rowIds[i] as string, row, loaded, partitionCount)));
}

function rowMessages(deps: MessageBuilding, rowId: string, targets: readonly Target[], loaded: LoadedRecords, partitionCount: (topic: string) => number): RowMessages {
  const messages: OutgoingMessage[] = [];
  for (const target of targets) {
    const model = target.topic.models.get(target.model);
    const loads = loaded.get(groupKey(target.topic.name, target.model));
    if (model === undefined || loads === undefined) continue;
    const failure = loads.failures.get(target.resourceId);
    if (failure !== undefined) return failure;
    try {
      const record = loads.records.get(target.resourceId);
      const plan = planRow({
        row: { resourceClass: target.model, resourceId: target.resourceId, eventName: target.eventName, partitionKey: target.partitionKey },
        topicName: target.topic.name,
        genesisReplica: target.topic.genesisReplica,
        partitionKeyAttribute: model.partitionKey,
        // Only a vanished record is rebuilt from its id (deletedRecord), which needs the id's type.
        idType: record === undefined ? deps.records.idType(target.topic.name, target.model) : undefined,
        record,
        partitionCount,
      });
      if (plan.kind === 'send') messages.push(...plan.messages);
      else deps.logger.info({ row: rowId, topic: target.topic.name, resource: `${target.model}:${target.resourceId}` }, plan.reason);
    } catch (err) {
      return err instanceof EncodingError
        ? new RelayError('ENCODING_FAILED', `cannot encode ${target.model} ${target.resourceId}: ${err.message}`, { cause: err })
        : new RelayError('RECORD_INVALID', `cannot build the message of ${target.model} ${target.resourceId}: ${errorMessage(err)}`, { cause: err });
    }
  }
  return messages;
}
