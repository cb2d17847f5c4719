import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { analyze, type CommittedRow } from './analysis';
import { createFixture, MODELS, type Fixture } from './fixture';
import { FaultInjector } from './faults';
import { readTopic, type ReadMessage } from './kafka-reader';
import { parseOptions, USAGE, type FaultSuiteOptions } from './options';
import { SupervisedRelay } from './relays';
import { createSyncedTables, sinkChecks, sinkRole, syncedBehind } from './sinks';
import { compareWriters, evaluate, writeJson } from './checks';
import { checkLines, exitLines, lostLines, summaryLines, violationLines, type Check, type RunFacts } from './report';
import { Rng } from './rng';
import { Services } from './services';
import { sleep, survivePostgresRestarts, waitUntil } from './time';
import { Writer } from './writers';

/**
 * The fault suite ("Prove it"): writers commit resource updates with their outbox rows while three
 * relay processes publish them, two sink processes keep synced copies of the topics, and faults are
 * injected at random moments (kill -9 of a relay or a sink, Kafka stopped, PostgreSQL restarted, a
 * relay frozen past the lock timeout). Then everything is read back from Kafka and the synced tables
 * and checked: nothing lost, duplicates counted, per-key order, every synced row at its resource's
 * final version. See docs/reliability.md and docs/sink.md.
 *
 *   npm run test:faults [-- --scale full] [-- --seed N]
 *
 * It stops and restarts the shared PostgreSQL and Kafka: never run it next to other tests.
 */

const RELAY_RUNNING_TIMEOUT_MS = 90_000;
const RELAY_TERM_TIMEOUT_MS = 40_000;

class FaultRun {
  private readonly rng: Rng;
  private readonly services = new Services();
  private readonly startedAt = Date.now();
  private readonly phasesMs: Record<string, number> = {};
  private readonly logDir = mkdtempSync(join(tmpdir(), 'dionysus-relay-faults-'));
  private fixture: Fixture | undefined;
  private monitor: Pool | undefined;
  private relays: SupervisedRelay[] = [];
  private sinks: SupervisedRelay[] = [];
  private synced: Awaited<ReturnType<typeof syncedBehind>> | undefined;
  private writers: Writer[] = [];
  private injector: FaultInjector | undefined;

  constructor(
    private readonly options: FaultSuiteOptions,
    private readonly command: string,
  ) {
    this.rng = new Rng(options.seed);
  }

  log(line: string): void {
    console.log(`[faults +${((Date.now() - this.startedAt) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  }

  /** Runs the scenario and the checks; returns the checks (the caller prints and exits). */
  async execute(): Promise<Check[]> {
    const o = this.options;
    this.log(`seed ${o.seed}; replay with: ${this.command}`);
    await this.phase('setup', () => this.setUp());
    await this.phase('faults', () => this.injectFaults());
    await this.phase('recover', () => this.recover());
    await this.phase('settle', () => this.settle());
    const unpublished = await this.countUnpublished();
    await this.phase('sinks catch up', () => this.sinksCatchUp());
    await this.phase('stop relays', () => this.stopRelays());
    const { rows, outbox, writerMismatch } = await this.readDatabase(unpublished);
    const messages = await this.phase('read kafka', () => this.readKafka());
    const analysis = analyze(rows, messages, this.injector?.records ?? []);
    await this.services.run('start', 'all').catch((err: unknown) => this.log(`services start failed: ${String(err)}`));
    const healthy = await this.services.healthy();
    const facts: RunFacts = {
      options: o,
      command: this.command,
      phasesMs: { ...this.phasesMs, total: Date.now() - this.startedAt },
      writers: this.writers.map((w) => w.stats),
      faults: this.injector?.records ?? [],
      relayStarts: this.relays.reduce((n, r) => n + r.starts, 0),
      unexpectedExits: this.relays.flatMap((r) => r.unexpectedExits),
      outbox,
      analysis,
    };
    const checks = evaluate(facts, {
      faultTypes: o.faultTypes,
      writerMismatch,
      finalExits: this.relays.map((r) => ({ name: r.name, code: r.finalExit?.code ?? r.finalExit?.signal ?? null })),
      healthy,
    });
    checks.push(...sinkChecks(this.sinks, this.synced, o.resourcesPerModel * MODELS.length));
    for (const line of [...violationLines(analysis.orderViolations), ...lostLines(analysis), ...exitLines(facts.unexpectedExits), '', ...summaryLines(facts)]) {
      console.log(line);
    }
    if (o.jsonFile !== undefined) writeJson(o.jsonFile, facts, checks);
    return checks;
  }

  private async phase<T>(name: string, body: () => Promise<T>): Promise<T> {
    const started = Date.now();
    this.log(`-- ${name}`);
    try {
      return await body();
    } finally {
      this.phasesMs[name] = Date.now() - started;
    }
  }

  private async setUp(): Promise<void> {
    const o = this.options;
    if (!(await this.services.healthy())) {
      this.log('services not healthy: starting them');
      await this.services.run('start', 'all');
    }
    const fixture = await createFixture(o);
    this.fixture = fixture;
    this.log(`schema ${fixture.db.schema}, topics ${[...fixture.topicOf.values()].join(', ')}, relay logs in ${this.logDir}`);
    this.monitor = new Pool({ connectionString: fixture.db.url, max: 2, options: `-c search_path=${fixture.db.schema},public`, application_name: 'faults-monitor' });
    survivePostgresRestarts(this.monitor);
    for (let i = 1; i <= o.relays; i++) {
      const relay = new SupervisedRelay(i, fixture.topicsFile, this.relayEnv(i), fixture.db.schema, this.logDir);
      this.relays.push(relay);
      relay.start();
    }
    const sinkFile = await createSyncedTables(fixture);
    for (let i = 1; i <= o.sinks; i++) {
      const sink = new SupervisedRelay(i, fixture.topicsFile, this.sinkEnv(i), fixture.db.schema, this.logDir, sinkRole(sinkFile));
      this.sinks.push(sink);
      sink.start();
    }
    for (const relay of [...this.relays, ...this.sinks]) {
      if (!(await relay.waitRunning(RELAY_RUNNING_TIMEOUT_MS))) throw new Error(`${relay.name} did not start:\n${relay.lastLines().join('\n')}`);
    }
    const writerRng = this.rng.fork();
    for (let i = 1; i <= o.writers; i++) {
      const writer = new Writer(
        i,
        { url: fixture.db.url, schema: fixture.db.schema, topicOf: fixture.topicOf, resourcesPerModel: o.resourcesPerModel, writesPerSecond: o.writesPerSecond },
        writerRng.fork(),
      );
      this.writers.push(writer);
      writer.start();
    }
  }

  private relayEnv(index: number): Record<string, string> {
    return {
      ...this.childEnv('relay', index),
      KAFKA_DELIVERY_TIMEOUT_MS: String(this.options.deliveryTimeoutMs),
      RELAY_BATCH_SIZE: String(this.options.batchSize),
      RELAY_POLL_INTERVAL_MS: '50',
    };
  }

  private sinkEnv(index: number): Record<string, string> {
    return { ...this.childEnv('sink', index), SINK_POLL_WAIT_MS: '50', SINK_ERROR_BACKOFF_MS: '200' };
  }

  /** What a relay's and a sink's env share. */
  private childEnv(role: 'relay' | 'sink', index: number): Record<string, string> {
    const fixture = this.fixture as Fixture;
    const url = new URL(fixture.db.url);
    // Each process's connections carry its name: pg_stat_activity shows which one holds a claim (or
    // a batch in flight), and the relays' serializer stamps every message with its sender.
    url.searchParams.set('application_name', `${fixture.db.schema}-${role}-${index}`);
    return {
      DATABASE_URL: url.toString(),
      DATABASE_SCHEMA: fixture.db.schema,
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: String(this.options.idleInTransactionTimeoutMs),
      KAFKA_CLIENT_ID: `${fixture.db.schema}-${role}-${index}`,
      LOG_LEVEL: 'info',
    };
  }

  private async injectFaults(): Promise<void> {
    this.injector = new FaultInjector(this.rng.fork(), this.options, this.relays, this.services, this.monitor as Pool, (line) => this.log(line), this.sinks);
    await this.injector.run(Date.now() + this.options.faultSeconds * 1000);
  }

  /** Services up, relays thawed and running, then the writers stop. */
  private async recover(): Promise<void> {
    await this.services.run('start', 'all');
    for (const relay of this.relays) if (relay.isFrozen) relay.thaw();
    for (const relay of [...this.relays, ...this.sinks]) await relay.waitRunning(RELAY_RUNNING_TIMEOUT_MS);
    await Promise.all(this.writers.map((w) => w.stop()));
    const committed = this.writers.reduce((n, w) => n + w.stats.committed, 0);
    this.log(`writers stopped: ${committed} writes committed`);
  }

  private async settle(): Promise<void> {
    let lastReport = Date.now();
    const settled = await waitUntil(async () => {
      const pending = await this.countUnpublished().catch(() => -1);
      if (Date.now() - lastReport >= 10_000) {
        lastReport = Date.now();
        this.log(`${pending} rows not yet published; relays running: ${this.relays.filter((r) => r.isRunning).length}/${this.relays.length}`);
      }
      return pending === 0;
    }, this.options.settleTimeoutMs, 250);
    this.log(settled ? 'every outbox row is published' : `rows still unpublished after ${this.options.settleTimeoutMs} ms`);
  }

  /** Until every synced row holds its resource's final version (or the settle deadline). */
  private async sinksCatchUp(): Promise<void> {
    let lastReport = Date.now();
    const caughtUp = await waitUntil(async () => {
      this.synced = await syncedBehind(this.monitor as Pool).catch(() => undefined);
      if (Date.now() - lastReport >= 10_000) {
        lastReport = Date.now();
        this.log(`synced tables: ${JSON.stringify(this.synced)}; sinks running: ${this.sinks.filter((s) => s.isRunning).length}/${this.sinks.length}`);
      }
      return this.synced !== undefined && this.synced.behind === 0 && this.synced.missing === 0;
    }, this.options.settleTimeoutMs, 250);
    this.log(caughtUp ? 'every synced row holds its final version' : `synced tables still behind: ${JSON.stringify(this.synced)}`);
  }

  private async countUnpublished(): Promise<number> {
    const result = await (this.monitor as Pool).query<{ n: number }>('SELECT count(*)::int AS n FROM dionysus_outboxes WHERE published_at IS NULL');
    return result.rows[0]?.n ?? -1;
  }

  private async stopRelays(): Promise<void> {
    await Promise.all([...this.relays, ...this.sinks].map((r) => r.terminate(RELAY_TERM_TIMEOUT_MS)));
    this.log(`sinks stopped: ${this.sinks.map((s) => `sink-${s.index} exit ${s.finalExit?.code ?? s.finalExit?.signal ?? '-'} (${s.starts} starts)`).join(', ')}`);
    this.log(`relays stopped: ${this.relays.map((r) => `${r.name.replace(/.*-relay-/, 'relay-')} exit ${r.finalExit?.code ?? r.finalExit?.signal ?? '-'}`).join(', ')}`);
  }

  private async readDatabase(unpublished: number): Promise<{
    rows: CommittedRow[];
    outbox: RunFacts['outbox'];
    writerMismatch: string[];
  }> {
    const fixture = this.fixture as Fixture;
    const db = fixture.db;
    const log = await db.query<{ token: string; model: string; resource_id: string; version: number }>('SELECT token, model, resource_id::text, version FROM write_log');
    const rows = log.map((r) => ({ topic: fixture.topicOf.get(r.model) as string, key: `${r.model}:${r.resource_id}`, version: r.version }));
    const [stats] = await db.query<{ rows: number; retried: number }>(
      'SELECT count(*)::int AS rows, count(*) FILTER (WHERE attempts > 0)::int AS retried FROM dionysus_outboxes',
    );
    const [mismatch] = await db.query<{ n: number }>(`
      SELECT count(*)::int AS n
        FROM (SELECT resource_class, resource_id, count(*) AS n FROM dionysus_outboxes GROUP BY 1, 2) o
        FULL JOIN (SELECT model, resource_id::text, count(*) AS n FROM write_log GROUP BY 1, 2) w
          ON o.resource_class = w.model AND o.resource_id = w.resource_id
       WHERE o.n IS DISTINCT FROM w.n`);
    const writerMismatch = compareWriters(this.writers.map((w) => w.writes), log.filter((r) => !r.token.startsWith('seed-')));
    if ((mismatch?.n ?? 0) > 0) writerMismatch.push(`${mismatch?.n} resources whose outbox row count differs from their write_log count`);
    return { rows, outbox: { rows: stats?.rows ?? 0, unpublished, retried: stats?.retried ?? 0 }, writerMismatch };
  }

  private async readKafka(): Promise<ReadMessage[]> {
    const fixture = this.fixture as Fixture;
    const messages: ReadMessage[] = [];
    for (const m of MODELS) messages.push(...(await readTopic(fixture.topicOf.get(m.model) as string, this.options.partitions)));
    this.log(`read ${messages.length} messages back`);
    return messages;
  }

  /** On any exit, even after an uncaught exception: no relay process survives the suite. */
  killRelaysNow(): void {
    for (const relay of [...this.relays, ...this.sinks]) relay.killNow();
  }

  /** Leaves the machine as it found it: relays gone, writers stopped, services running. */
  async cleanup(passed: boolean): Promise<void> {
    await Promise.all([...this.relays, ...this.sinks].map((r) => r.destroy().catch(() => undefined)));
    await Promise.all(this.writers.map((w) => w.stop().catch(() => undefined)));
    await this.monitor?.end().catch(() => undefined);
    await this.services.run('start', 'all').catch((err: unknown) => this.log(`could not start the services again: ${String(err)}`));
    if (passed && !this.options.keep) {
      await this.fixture?.cleanup().catch((err: unknown) => this.log(`cleanup failed: ${String(err)}`));
      rmSync(this.logDir, { recursive: true, force: true });
    } else if (this.fixture !== undefined) {
      this.log(`kept for inspection: schema ${this.fixture.db.schema}, topics ${[...this.fixture.topicOf.values()].join(', ')}, relay logs ${this.logDir}`);
    }
  }
}

function replayCommand(argv: readonly string[], seed: number): string {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--seed') i += 1;
    else if (!(argv[i] ?? '').startsWith('--seed=')) args.push(argv[i] as string);
  }
  return `npm run test:faults -- ${[...args, '--seed', String(seed)].join(' ')}`;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let options: FaultSuiteOptions;
  try {
    options = parseOptions(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const run = new FaultRun(options, replayCommand(argv, options.seed));
  let passed = false;
  const interrupt = (): void => {
    run.log('interrupted: cleaning up (relays killed, services started again)');
    void run.cleanup(false).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  process.on('exit', () => run.killRelaysNow());
  process.on('uncaughtException', (err) => {
    run.log(`uncaught exception: ${err.stack ?? err.message}`);
    void run.cleanup(false).finally(() => {
      console.log('0 passed, 1 failed');
      process.exit(1);
    });
  });
  let tally = '0 passed, 1 failed';
  try {
    const checks = await run.execute();
    passed = checks.every((c) => c.passed);
    const lines = checkLines(checks);
    tally = lines.pop() ?? tally;
    for (const line of lines) console.log(line);
  } catch (err) {
    run.log(`the run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await run.cleanup(passed);
  }
  // The closing line CI reads comes last, after the cleanup's own lines.
  console.log(tally);
  // Let the output drain; node-rdkafka and pg handles are closed, but do not wait on stray timers.
  await sleep(100);
  return passed ? 0 : 1;
}

void main().then((code) => process.exit(code));
