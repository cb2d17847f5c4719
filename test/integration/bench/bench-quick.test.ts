import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from 'pg';
import type { BenchResult } from '../../../bench/report';
import type { DrainResult } from '../../../bench/scenarios/drain';
import { packageRoot } from '../../../src/package-root';
import { TEST_DATABASE_URL, uniqueSuffix } from '../../helpers/env';

// `npm run bench -- --quick` must keep working: the quick benchmark runs end to end against the
// real PostgreSQL and Kafka, in a database of its own, and writes a result file with every figure.
// Timings are not asserted (CI machines vary); only that the suite completes and reports.
// A database, not only a schema: the strict scenario's claims wait for write transactions older
// than its rows (the horizon is database-wide), and other test files running meanwhile open such
// transactions (a 300k-row fixture insert lasts seconds); the relay then found nothing to claim
// and, run with --exit-when-idle, left rows unpublished.

const schema = `bench_ci_${uniqueSuffix()}`.toLowerCase();
const database = schema;
const resultsDir = mkdtempSync(join(tmpdir(), 'dionysus-relay-bench-test-'));

async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

before(() => admin(`CREATE DATABASE "${database}"`));

after(async () => {
  rmSync(resultsDir, { recursive: true, force: true });
  await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
});

function benchDatabaseUrl(): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

function runQuickBench(): Promise<{ code: number | null; output: string }> {
  const script = join(packageRoot(), 'build', 'bench', 'run.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, '--quick', '--burst-rows', '2000', '--schema', schema, '--results-dir', resultsDir, '--drop-schema'], {
      env: { ...process.env, BENCH_DATABASE_URL: benchDatabaseUrl() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 8 * 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('the quick benchmark completes and writes a result file with every scenario', { timeout: 9 * 60_000 }, async () => {
  const run = await runQuickBench();
  assert.equal(run.code, 0, run.output.slice(-6000));

  const files = readdirSync(resultsDir).filter((f) => f.startsWith('bench-quick-') && f.endsWith('.json'));
  assert.equal(files.length, 1, `result files: ${files.join(', ')}`);
  const result = JSON.parse(readFileSync(join(resultsDir, files[0] as string), 'utf8')) as BenchResult;

  assert.equal(result.mode, 'quick');
  for (const key of ['cores', 'memoryGiB', 'node', 'postgres', 'kafka', 'librdkafka'] as const) {
    assert.ok(result.machine[key] !== undefined, `machine.${key}`);
  }
  assert.equal(result.loadAverage.start.length, 3, 'the load average the figures were taken under');
  const s = result.scenarios;
  const drains: Array<[string, DrainResult | undefined]> = [
    ['drain', s.drain],
    ['scaleOut', s.scaleOut],
    ['strict without the optional index', s.strict?.withoutIndex],
    ['strict with the optional index', s.strict?.withIndex],
  ];
  for (const [name, d] of drains) {
    assert.ok(d, name);
    // On failure, what the relays said last (failed rows, held resources, why they went idle).
    const said = (): string => d.relayProcesses.map((p) => `--- ${p.label}, exit ${String(p.exitCode)}:\n${p.outputTail}`).join('\n');
    assert.equal(d.unpublished, 0, d.unpublished === 0 ? '' : `${name}: every row published\n${said()}`);
    for (const key of ['wallSeconds', 'rowsPerSecondWall', 'rowsPerSecondSpan', 'relayCpuSecondsPer1000Rows', 'relayPeakRssMiB'] as const) {
      assert.equal(typeof d[key], 'number', `${name}.${key}`);
    }
    assert.equal(d.verification?.messagesRead, d.rows, `${name}: one message per row`);
    assert.equal(d.verification?.extraMessages, 0, `${name}: no row published twice`);
  }
  assert.equal(s.scaleOut?.relays, 2);
  // The bursts: rows committed while a relay idles, in large transactions and in 5-row ones.
  assert.deepEqual(s.burst.map((b) => b.shape), ['large', 'small']);
  for (const b of s.burst) {
    assert.equal(b.rows, 2000, `${b.label}: every row committed`);
    assert.equal(b.unpublished, 0, `${b.label}: every row published\n${b.relay.outputTail}`);
    assert.equal(b.messagesMatched, 2000, `${b.label}: one message per row`);
    assert.equal(b.duplicateMessages, 0, `${b.label}: no row published twice`);
    for (const key of ['commitToLastAppendSeconds', 'rowsPerSecond', 'relayCpuMicrosPerRow', 'relayPostgresCpuMicrosPerRow', 'brokerCpuMicrosPerRow'] as const) {
      assert.equal(typeof b[key], 'number', `${b.label}.${key}`);
    }
  }
  assert.equal(s.burst[1]?.rowsPerTransaction, 5);
  assert.equal(s.strict?.withIndex.ordering, 'strict');
  const live = s.live[0];
  assert.ok(live, 'live scenario ran');
  for (const key of ['p50', 'p95', 'p99', 'max'] as const) assert.equal(typeof live.commitToAckMs[key], 'number', `live ${key}`);
  assert.equal(typeof live.keptUp, 'boolean');
  // The sink's scenarios: every message of the drained topic in the consumer table, every live commit too.
  assert.equal(s.sinkDrain?.rowsInTable, s.sinkDrain?.messages);
  assert.equal(typeof s.sinkDrain?.messagesPerSecondSpan, 'number');
  assert.equal(s.sinkLive[0]?.rowsMissing, 0);
  for (const key of ['p50', 'p99', 'max'] as const) assert.equal(typeof s.sinkLive[0]?.commitToTableMs[key], 'number', `sink live ${key}`);
  assert.equal(typeof s.ceilingPostgres?.rowsPerSecond, 'number');
  assert.equal(typeof s.ceilingKafka?.messagesPerSecond, 'number');
  assert.equal(typeof result.ratios.drainToPostgresCeiling, 'number');
  assert.equal(typeof result.ratios.drainToKafkaCeiling, 'number');
  assert.ok(result.targets.length > 0, 'targets judged');
  assert.match(run.output, /target\s+\|\s+wanted/, 'the summary table was printed');
});
