import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HighLevelProducer } from 'node-rdkafka';
import { TEST_DATABASE_URL, TEST_KAFKA_BROKERS } from './env';
import { startRelay, type RelayProcess } from './relay-process';

/** Writes a sink YAML into a fresh temp folder and returns its path. */
export function writeSinkFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dionysus-sink-test-'));
  const file = join(dir, 'sink.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** Env of a sink process applying into `schema` (the consumer's tables). */
export function sinkEnv(schema: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: TEST_DATABASE_URL,
    DATABASE_SCHEMA: schema,
    SINK_POLL_WAIT_MS: '50',
    SINK_ERROR_BACKOFF_MS: '100',
    ...extra,
  };
}

/** Starts `dionysus-relay sink --sink FILE` (the real CLI) and waits until it logs "sink running". */
export async function startSink(sinkFile: string, env: Record<string, string>): Promise<RelayProcess> {
  const sink = startRelay(['sink', '--sink', sinkFile], env);
  await sink.waitForLog('"sink running"', 60_000);
  return sink;
}

/** Stops a process with SIGTERM and returns its exit code (SIGKILL after `timeoutMs`). */
export async function terminate(process: RelayProcess, timeoutMs = 30_000): Promise<number | string> {
  process.kill('SIGTERM');
  const timer = setTimeout(() => process.kill('SIGKILL'), timeoutMs);
  const code = await process.exited;
  clearTimeout(timer);
  return code;
}

export interface OutgoingValue {
  readonly key: string | null;
  /** A string is sent as UTF-8; null is a real Kafka tombstone. */
  readonly value: string | null;
  readonly partition?: number;
}

/** Produces messages in order (one partition keeps their order) and waits for every acknowledgement. */
export async function produceValues(topic: string, messages: readonly OutgoingValue[], brokers = TEST_KAFKA_BROKERS): Promise<void> {
  const producer = new HighLevelProducer({ 'metadata.broker.list': brokers, 'enable.idempotence': true, 'linger.ms': 5 } as never);
  await new Promise<void>((resolve, reject) => producer.connect({}, (err) => (err ? reject(err) : resolve())));
  producer.setPollInterval(10);
  try {
    await Promise.all(
      messages.map(
        (m) =>
          new Promise<void>((resolve, reject) =>
            producer.produce(topic, m.partition ?? null, m.value === null ? null : Buffer.from(m.value), m.key, null, (err: unknown) => (err ? reject(err) : resolve())),
          ),
      ),
    );
  } finally {
    await new Promise<void>((resolve) => producer.disconnect(() => resolve()));
  }
}

/** The gem's envelope with one event of one record. */
export function envelope(event: string, modelName: string, record: Record<string, unknown>): string {
  return JSON.stringify({ message: [{ event, model_name: modelName, data: [record] }] });
}

/** `2024-01-01T00:00:<ss>.000Z`: distinct, ordered times for records. */
export function second(s: number): string {
  return `2024-01-01T00:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.000Z`;
}
