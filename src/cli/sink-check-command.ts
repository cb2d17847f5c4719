import { producerConfig } from '../kafka/librdkafka-config';
import { listTopics } from '../kafka/topic-listing';
import { errorMessage } from '../errors';
import { loadSinkConfiguration } from '../main-sink';
import { readSinkCatalog } from '../postgres/sink-catalog';
import { createPool } from '../postgres/pool';
import type { CliArgs } from './args';

/**
 * `dionysus-relay check --sink FILE`: the sink's start-up validation without consuming anything.
 * PostgreSQL: every mapped table and column exists, the remote id has a unique index, the inbox
 * table has its shape. Kafka: every topic and dead-letter topic exists. One line per problem;
 * exit 1 when there is any.
 */
export async function sinkCheckCommand(args: CliArgs, env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const { settings, sink } = loadSinkConfiguration(args, env);
  out(`${sink.file}: group ${sink.groupId}, ${sink.topics.length} topic(s), ${sink.models.size} model mapping(s) parsed`);
  const problems: string[] = [];
  const pool = createPool(settings.database, 'dionysus-relay-check');
  try {
    const catalog = await readSinkCatalog(pool, sink);
    for (const [table, shape] of catalog.shapes) out(`postgres: ${table} has ${shape.columns.size} column(s)`);
    for (const note of catalog.notes) out(`note: ${note}`);
    problems.push(...catalog.problems);
  } catch (err) {
    problems.push(`postgres: ${errorMessage(err)}`);
  } finally {
    await pool.end();
  }
  try {
    const existing = await listTopics(producerConfig(settings.kafka));
    const deadLetterTopics = new Set(sink.topics.flatMap((t) => (t.deadLetterTopic === undefined ? [] : [t.deadLetterTopic])));
    const wanted = [...sink.topics.map((t) => ({ name: t.name, role: 'topic' })), ...[...deadLetterTopics].map((name) => ({ name, role: 'dead-letter topic' }))];
    for (const { name, role } of wanted) {
      const partitions = existing.get(name);
      if (partitions === undefined) problems.push(`kafka: ${role} ${name} does not exist (create it, or let the brokers auto-create it)`);
      else out(`kafka: ${role} ${name} has ${partitions} partition(s)`);
    }
  } catch (err) {
    problems.push(`kafka: ${errorMessage(err)} (KAFKA_BROKERS=${settings.kafka.brokers})`);
  }
  for (const p of problems) out(`PROBLEM ${p}`);
  out(problems.length === 0 ? 'check passed' : `check failed: ${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
}
