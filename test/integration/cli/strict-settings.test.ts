import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { baseRelayEnv, cliPath, writeTopicsFile } from '../../helpers/relay-process';

// Bad settings and bad flags stop every command with exit 2 and a message naming the env var,
// settings-file line or flag, before any connection: the database and broker given here do not
// exist, and a command that tried to reach them would fail with exit 1 and "cannot connect".

const UNREACHABLE = { DATABASE_URL: 'postgres://relay:pw@127.0.0.1:1/nowhere', KAFKA_BROKERS: '127.0.0.1:1' };

function run(args: string[], env: Record<string, string> = {}): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath(), ...args], { env: baseRelayEnv({ ...UNREACHABLE, ...env }), encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stderr: r.stderr };
}

function refused(args: string[], env: Record<string, string>, expected: string): void {
  const r = run(args, env);
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(expected), `expected ${JSON.stringify(expected)} in:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /cannot connect|\n\s+at /, 'no connection attempt, no stack trace');
}

const topicsFile = writeTopicsFile(`namespace: strict
topics:
  users:
    models:
      User:
        view: v_users
`);

test('settings from env: fractions, 0 and unknown boolean words, all in one report', () => {
  const r = run(['run', '--topics', topicsFile], { RELAY_BATCH_SIZE: '1.5', RELAY_MAX_INFLIGHT_BATCHES: '0', RELAY_LISTEN_NOTIFY: 'maybe' });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(
    r.stderr,
    'dionysus-relay: invalid configuration [CONFIG_INVALID]\n' +
      '  RELAY_BATCH_SIZE (relay.batchSize): "1.5" is not a whole number (digits only: no fraction, sign or exponent; 1 to 100000)\n' +
      '  RELAY_MAX_INFLIGHT_BATCHES (relay.maxInflightBatches): "0" is out of range (1 to 100)\n' +
      '  RELAY_LISTEN_NOTIFY (relay.listenNotify): "maybe" is not a boolean (true, false, 1, 0, yes or no)\n',
  );
});

test('a settings file value names the file, line, key and env var; a flag names the flag', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'strict-')), 'settings.yaml');
  writeFileSync(file, 'relay:\n  batchSize: 1e3\n');
  refused(['run', '--topics', topicsFile, '--config', file], {}, `${file}:2: relay.batchSize (env RELAY_BATCH_SIZE): "1e3" is not a whole number`);
  refused(['check', '--topics', topicsFile, '--log-level', 'loud'], {}, '--log-level (log.level, env LOG_LEVEL): "loud" is not one of: fatal, error, warn, info, debug, trace, silent');
});

test('the database URL is checked before connecting, without printing it', () => {
  refused(['run', '--topics', topicsFile], { DATABASE_URL: 'nonsense' }, 'DATABASE_URL (database.url): not a URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)');
  refused(['migrate'], { DATABASE_URL: 'mysql://app:hunter2@127.0.0.1/app' }, 'DATABASE_URL (database.url): the scheme is "mysql:", not postgres: or postgresql:');
  assert.ok(!run(['migrate'], { DATABASE_URL: 'mysql://app:hunter2@127.0.0.1/app' }).stderr.includes('hunter2'));
});

test('contradicting settings are refused', () => {
  refused(['run', '--topics', topicsFile], { DATABASE_POOL_SIZE: '3' }, 'DATABASE_POOL_SIZE=3 is too small for RELAY_MAX_INFLIGHT_BATCHES (relay.maxInflightBatches, default 2)');
  refused(['run', '--topics', topicsFile], { RETRY_BASE_SECONDS: '60', RETRY_MAX_DELAY_SECONDS: '30' }, 'RETRY_MAX_DELAY_SECONDS=30 caps the retry delay below RETRY_BASE_SECONDS=60');
});

test('every command\'s flags are checked before any connection', () => {
  refused(['genesis', '--topics', topicsFile, '--topic', 'users', '--model', 'User', '--rate', 'fast'], {}, 'genesis: --rate: "fast" is not a rate (examples: 200/s, 600/m, 10000/h)');
  refused(['genesis', '--topics', topicsFile, '--topic', 'users'], {}, 'genesis: missing --model (or --resume ID to continue a run)');
  refused(['genesis', '--topics', topicsFile, '--topic', 'users', '--model', 'User', '--batch-size', '1e3'], {}, 'genesis: --batch-size: "1e3" is not a whole number');
  refused(['genesis', '--topics', topicsFile, '--topic', 'users', '--model', 'User', '--over', 'later'], {}, 'genesis: --over: "later" is not a duration');
  refused(['genesis', '--topics', topicsFile, '--topic', 'users', '--model', 'User', '--from', '2024-02-30'], {}, 'genesis: --from: "2024-02-30" is not an ISO 8601 timestamp');
  refused(['genesis', '--topics', topicsFile, '--topic', 'users', '--model', 'Usr'], {}, 'genesis: model Usr is not configured on topic strict_users');
  refused(['genesis', '--topics', topicsFile, '--resume', 'last'], {}, 'genesis: --resume: "last" is not a run id (a number)');
  refused(['cleanup', '--older-than', 'soon'], {}, 'cleanup --older-than: "soon" is not a duration');
  refused(['cleanup', '--older-than', '3d', '--batch-size', '0'], {}, 'cleanup --batch-size: "0" is out of range (1 to 100000)');
  refused(['migrate', '--with', 'nope'], {}, 'migrate --with nope: unknown optional migration (valid names: notify_trigger, strict_retry_index)');
  refused(['tombstone', '--topics', topicsFile, '--topic', 'userz', '--model', 'User', '--id', '1'], {}, 'tombstone --topic userz: not in');
  refused(['run', '--topics', topicsFile, '--topics', topicsFile], {}, 'run: --topics is given twice (give it once)');
});
