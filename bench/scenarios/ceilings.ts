import { Producer, type DeliveryReport, type LibrdKafkaError } from 'node-rdkafka';
import type { PoolClient, QueryResult } from 'pg';
import { producerConfig } from '../../src/kafka/librdkafka-config';
import { choosePartition } from '../../src/domain/partitioner';
import { encodeEnvelope } from '../../src/domain/message-builder';
import { beginAndClaimText } from '../../src/postgres/claim-sql';
import { qualifiedTable } from '../../src/postgres/identifiers';
import { outboxStatements } from '../../src/postgres/outbox-sql';
import { createPool } from '../../src/postgres/pool';
import { BackendCpuTracker } from '../backend-cpu';
import { cpuMeter, effectiveSettings, newScenarioTopic, publishedSpan, relayEnv, type BenchContext } from '../context';
import { USER_SERIALIZER_SQL, insertPending, resetOutbox } from '../fixture';
import { roundedSplit, type MeasuredCpu } from '../proc';
import { round } from '../stats';

/**
 * What the relay could reach if one side cost nothing.
 * (a) Postgres: the relay's own claim and mark statements, batch for batch, on as many connections
 *     as the relay has batches in flight; no Kafka, no message work.
 * (b) Kafka: librdkafka producing messages of the relay's size with the relay's producer config,
 *     one delivery report each; no Postgres.
 */
export interface PostgresCeilingResult {
  readonly rows: number;
  readonly batchSize: number;
  readonly connections: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  readonly rowsPerSecondSpan: number;
  /** Time spent per statement summed over all connections, seconds. */
  readonly statementSeconds: { begin: number; claim: number; mark: number; commit: number };
  readonly batches: number;
  /** CPU of the backends of this process's connections (the claim-and-mark work itself). */
  readonly postgresCpuSecondsPer1000Rows: number;
  readonly cpu: MeasuredCpu;
}

export async function runPostgresCeiling(ctx: BenchContext, rows: number): Promise<PostgresCeilingResult> {
  const settings = effectiveSettings(relayEnv(ctx));
  const { batchSize, maxInflightBatches: connections } = settings.relay;
  await resetOutbox(ctx.pool, ctx.fixture);
  const topic = `bench_${ctx.runId}_ceiling_pg_users`;
  await insertPending(ctx.pool, topic, rows);
  await ctx.pool.query('CHECKPOINT');
  ctx.log(`ceiling-pg: claim + markPublished on ${rows} rows, batch ${batchSize}, ${connections} connection(s)`);
  const pool = createPool({ ...settings.database, poolSize: connections }, 'dionysus-relay-bench-ceiling');
  const sql = outboxStatements(qualifiedTable(settings.database.schema, settings.database.table));
  // As the relay does: BEGIN, the claim transaction's settings and the claim in one simple query
  // (beginAndClaimText), then the mark and the COMMIT in another.
  // begin stays 0: BEGIN travels with the claim (timed as claim), as in the relay.
  const time = { begin: 0, claim: 0, mark: 0, commit: 0 };
  let batches = 0;
  const timed = async (phase: keyof typeof time, run: () => Promise<unknown>): Promise<void> => {
    const t0 = process.hrtime.bigint();
    await run();
    time[phase] += Number(process.hrtime.bigint() - t0) / 1e9;
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      const client: PoolClient = await pool.connect();
      try {
        let ids: string[] = [];
        await timed('claim', async () => {
          const results = (await client.query(beginAndClaimText(sql.beginClaim, sql.claim, { topic, delayMs: 0, limit: batchSize }))) as unknown as QueryResult[];
          ids = (results[results.length - 1] as QueryResult).rows.map((row: Record<string, unknown>) => String(row['id']));
        });
        // As the relay ends a batch without failures: the mark and the COMMIT in one round trip.
        const markAndCommit = sql.markPublishedAndCommit(ids);
        if (markAndCommit !== undefined) await timed('mark', () => client.query(markAndCommit));
        else await timed('commit', () => client.query('COMMIT'));
        if (ids.length === 0) return;
        batches += 1;
      } finally {
        client.release();
      }
    }
  };
  // Connect (and let each connection prepare nothing yet) before the clock starts, as the relay does.
  const warm = await Promise.all(Array.from({ length: connections }, () => pool.connect()));
  for (const c of warm) c.release();
  const meter = cpuMeter(ctx);
  const backends = new BackendCpuTracker(ctx.pool, () => process.pid, true);
  backends.start();
  meter.start();
  const started = Date.now();
  await Promise.all(Array.from({ length: connections }, () => worker()));
  const seconds = (Date.now() - started) / 1000;
  const otherCpu = meter.stop();
  const pgCpu = await backends.stop();
  await pool.end();
  const span = await publishedSpan(ctx, topic);
  if (span.pending > 0) throw new Error(`ceiling-pg left ${span.pending} rows pending`);
  const result: PostgresCeilingResult = {
    rows,
    batchSize,
    connections,
    seconds: round(seconds, 2),
    rowsPerSecond: Math.round(rows / seconds),
    rowsPerSecondSpan: Math.round(span.published / span.spanSeconds),
    statementSeconds: { begin: round(time.begin, 2), claim: round(time.claim, 2), mark: round(time.mark, 2), commit: round(time.commit, 2) },
    batches,
    postgresCpuSecondsPer1000Rows: round((pgCpu / rows) * 1000, 3),
    cpu: roundedSplit(otherCpu, 0),
  };
  ctx.log(`ceiling-pg: ${result.rowsPerSecond} rows/s (${result.seconds} s, Postgres CPU ${result.cpu.postgres} s)`);
  return result;
}

export interface KafkaCeilingResult {
  readonly messages: number;
  readonly valueBytes: number;
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly failed: number;
  readonly queueFullWaits: number;
  readonly producerConfig: Record<string, string | number | boolean>;
  readonly cpu: MeasuredCpu;
}

/** One real message of the fixture (user 1 through the serializer), for its size. */
async function sampleMessage(ctx: BenchContext): Promise<{ value: Buffer; accountId: string }> {
  const settings = effectiveSettings(relayEnv(ctx));
  const pool = createPool({ ...settings.database, poolSize: 1 }, 'dionysus-relay-bench-sample');
  try {
    // Near enough in size to what the relay sends for it (values as node-postgres parses them).
    const r = await pool.query<Record<string, unknown>>({ text: USER_SERIALIZER_SQL, values: [['1']] });
    const row = r.rows[0] ?? {};
    const record = { ...row, links: { account: row['account_id'] } };
    return { value: encodeEnvelope('user_updated', 'User', record), accountId: String(row['account_id']) };
  } finally {
    await pool.end();
  }
}

export async function runKafkaCeiling(ctx: BenchContext, messages: number): Promise<KafkaCeilingResult> {
  const settings = effectiveSettings(relayEnv(ctx));
  const config = producerConfig(settings.kafka);
  const { value } = await sampleMessage(ctx);
  const { topic } = await newScenarioTopic(ctx, 'ceiling_kafka');
  const partitions = ctx.options.sizes.partitions;
  ctx.log(`ceiling-kafka: ${messages} messages of ${value.length} bytes, relay producer config`);
  const producer = new Producer({ ...(config as Record<string, unknown>), dr_cb: true } as never);
  await new Promise<void>((resolve, reject) => producer.connect({ timeout: 15_000 }, (err) => (err ? reject(err) : resolve())));
  let delivered = 0;
  let failed = 0;
  let queueFullWaits = 0;
  let finish: () => void = () => undefined;
  const allDelivered = new Promise<void>((resolve) => (finish = resolve));
  producer.on('delivery-report', (err: LibrdKafkaError, _report: DeliveryReport) => {
    if (err) failed += 1;
    else delivered += 1;
    if (delivered + failed === messages) finish();
  });
  // Warm the topic's metadata so the clock measures producing, not the first lookup.
  await new Promise<void>((resolve, reject) => producer.getMetadata({ topic, timeout: 10_000 }, (err) => (err ? reject(err) : resolve())));
  const poller = setInterval(() => producer.poll(), 2);
  const meter = cpuMeter(ctx);
  meter.start();
  const started = Date.now();
  for (let i = 0; i < messages; i++) {
    const key = `User:${i + 1}`;
    const partition = choosePartition(String(1 + (i % ctx.fixture.accounts)), key, partitions);
    for (;;) {
      try {
        producer.produce(topic, partition, value, key, null, i);
        break;
      } catch (err) {
        if ((err as { code?: number }).code !== -184) throw err; // ERR__QUEUE_FULL
        queueFullWaits += 1;
        producer.poll();
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await allDelivered;
  const seconds = (Date.now() - started) / 1000;
  const otherCpu = meter.stop();
  clearInterval(poller);
  await new Promise<void>((resolve) => producer.disconnect(10_000, () => resolve()));
  const redacted = Object.fromEntries(Object.entries(config).filter(([k]) => !/sasl|ssl|password/i.test(k)));
  const result: KafkaCeilingResult = {
    messages,
    valueBytes: value.length,
    seconds: round(seconds, 2),
    messagesPerSecond: Math.round(messages / seconds),
    failed,
    queueFullWaits,
    producerConfig: redacted,
    cpu: roundedSplit(otherCpu, 0),
  };
  ctx.log(`ceiling-kafka: ${result.messagesPerSecond} messages/s (${result.seconds} s, broker CPU ${result.cpu.broker} s)`);
  return result;
}
