import { KafkaPublisher } from '../kafka/publisher';
import { producerConfig } from '../kafka/librdkafka-config';
import { GENESIS_SUFFIX } from '../config/topics-types';
import { errorMessage } from '../errors';
import { loadConfiguration } from '../config/load-configuration';
import { checkDatabase } from '../postgres/live-checks';
import { createPool } from '../postgres/pool';
import { DependencyResolver } from '../postgres/dependency-resolver';
import { ObserverResolver } from '../postgres/observer-resolver';
import { SerializerLoader } from '../postgres/serializer-loader';
import type { CliArgs } from './args';
import { sinkCheckCommand } from './sink-check-command';

/**
 * `dionysus-relay check`: the start-up validation of `run` without publishing anything, plus the
 * partition count of every topic. One line per problem; exit 1 when there is any.
 */
export async function checkCommand(args: CliArgs, env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  if (args.sinkFile !== undefined) return sinkCheckCommand(args, env, out);
  const { settings, topics } = loadConfiguration(args, env);
  out(`${topics.file}: ${topics.topics.length} topic(s) parsed`);
  const problems: string[] = [];
  const pool = createPool(settings.database, 'dionysus-relay-check');
  try {
    const loader = new SerializerLoader(pool, topics);
    try {
      await loader.prepare();
    } finally {
      for (const warning of loader.warnings) out(`WARNING ${warning}`);
    }
    out('serializers: every statement runs, returns an id column and only types the relay sends as Rails does; every relationship statement runs');
    await new DependencyResolver(pool, topics).prepare();
    out('dependencies: every parents_sql runs and returns dependency_id, parent_id');
    await new ObserverResolver(pool, topics).prepare();
    out('observers: every observer statement runs and returns an id column');
  } catch (err) {
    problems.push(...errorMessage(err).split('\n'));
  }
  try {
    const live = await checkDatabase(
      pool,
      settings.database.schema,
      settings.database.table,
      topics,
      settings.relay.batchSize * settings.relay.maxInflightBatches,
      {
        activeSlots: settings.relay.activeSlots,
        sharePercent: settings.relay.lockTableShare,
        batchSize: settings.relay.batchSize,
        maxInflightBatches: settings.relay.maxInflightBatches,
      },
    );
    for (const note of live.notes) out(note);
    problems.push(...live.problems);
  } catch (err) {
    problems.push(`postgres: ${errorMessage(err)}`);
  } finally {
    await pool.end();
  }
  // check must not create topics: a metadata request for a missing topic would auto-create it.
  const publisher = new KafkaPublisher({ config: { ...producerConfig(settings.kafka), 'allow.auto.create.topics': false }, metadataRefreshMs: 0 });
  try {
    await publisher.start();
    for (const topic of topics.topics) {
      const names = topic.genesisReplica ? [topic.name, topic.name + GENESIS_SUFFIX] : [topic.name];
      for (const name of names) {
        try {
          await publisher.refreshPartitions([name]);
          out(`kafka: ${name} has ${publisher.partitionCount(name)} partition(s)`);
        } catch (err) {
          problems.push(`kafka: ${name}: ${errorMessage(err)} (the relay would create it only if the brokers auto-create topics)`);
        }
      }
    }
  } catch (err) {
    problems.push(`kafka: ${errorMessage(err)} (KAFKA_BROKERS=${settings.kafka.brokers})`);
  } finally {
    await publisher.stop();
  }
  for (const p of problems) out(`PROBLEM ${p}`);
  out(problems.length === 0 ? 'check passed' : `check failed: ${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
}
