import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { RelayError } from '../../../src/errors';
import { DependencyWait, STOPPED } from '../../../src/lifecycle/dependency-wait';

/** A logger whose lines are kept, parsed. */
function capturingLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

const down = (reason: string): RelayError => new RelayError('POSTGRES_UNAVAILABLE', `cannot connect: ${reason}`, { retriable: true, context: { reason } });

/** Fails with the given reasons in turn, then succeeds with 'up'. */
function attemptsFailingWith(reasons: string[]): { attempt: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    attempt: async () => {
      const reason = reasons[calls];
      calls += 1;
      if (reason !== undefined) throw down(reason);
      return 'up';
    },
    calls: () => calls,
  };
}

test('retries until the dependency answers; one log line per distinct failure and one when it answers', async () => {
  const { logger, lines } = capturingLogger();
  const wait = new DependencyWait({ maxRetryMs: 2, random: () => 0, logger });
  const reasons = ['connection refused', 'connection refused', 'connection refused', 'starting up', 'starting up', 'connection refused'];
  const { attempt, calls } = attemptsFailingWith(reasons);
  assert.deepEqual(wait.status('postgres'), { ok: false, detail: 'waiting for PostgreSQL: not tried yet' });
  assert.equal(await wait.until('postgres', attempt), 'up');
  assert.equal(calls(), reasons.length + 1);
  const warnings = lines.filter((l) => l['level'] === 40).map((l) => l['msg']);
  assert.deepEqual(warnings, [
    'waiting for PostgreSQL: connection refused',
    'waiting for PostgreSQL: starting up',
    'waiting for PostgreSQL: connection refused',
  ]);
  const answered = lines.filter((l) => l['level'] === 30);
  assert.equal(answered.length, 1);
  assert.equal(answered[0]?.['msg'], 'PostgreSQL answers: done waiting for it');
  assert.equal(answered[0]?.['failedAttempts'], reasons.length);
  assert.deepEqual(wait.status('postgres'), { ok: true, detail: 'PostgreSQL answers' });
});

test('a first attempt that succeeds logs nothing', async () => {
  const { logger, lines } = capturingLogger();
  const wait = new DependencyWait({ maxRetryMs: 2, random: () => 0, logger });
  assert.equal(await wait.until('kafka', async () => 7), 7);
  assert.deepEqual(lines, []);
});

test('the state shows the last failure while waiting', async () => {
  const { logger } = capturingLogger();
  const wait = new DependencyWait({ maxRetryMs: 60_000, random: () => 0, logger });
  const waiting = wait.until('kafka', async () => {
    throw new RelayError('KAFKA_UNAVAILABLE', 'cannot connect to Kafka: long text', { retriable: true, context: { reason: 'Connection refused' } });
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(wait.status('kafka'), { ok: false, detail: 'waiting for Kafka: Connection refused', failedAttempts: 1 });
  wait.stop();
  assert.equal(await waiting, STOPPED);
});

test('an error that is not retriable ends the wait at once, thrown as it is', async () => {
  const { logger } = capturingLogger();
  const wait = new DependencyWait({ maxRetryMs: 2, random: () => 0, logger });
  const rejected = new RelayError('POSTGRES_REJECTED', 'password authentication failed', { context: { reason: 'password authentication failed for user "x"' } });
  let calls = 0;
  await assert.rejects(
    wait.until('postgres', async () => {
      calls += 1;
      throw rejected;
    }),
    (err) => err === rejected,
  );
  assert.equal(calls, 1);
  assert.equal(wait.status('postgres').ok, false);
  // A plain Error is not known to be retriable either.
  await assert.rejects(wait.until('kafka', async () => Promise.reject(new Error('bug'))), /bug/);
});

test('stop() ends a wait during a pause and during an attempt that never settles, and later waits at once', async () => {
  const { logger } = capturingLogger();
  const wait = new DependencyWait({ maxRetryMs: 60_000, random: () => 0.999999, logger });
  const { attempt } = attemptsFailingWith(['refused', 'refused', 'refused']);
  const pausing = wait.until('postgres', attempt);
  const hanging = wait.until('kafka', () => new Promise<never>(() => undefined));
  await new Promise((resolve) => setImmediate(resolve));
  wait.stop();
  assert.equal(await pausing, STOPPED);
  assert.equal(await hanging, STOPPED);
  assert.equal(wait.isStopped, true);
  assert.equal(await wait.until('postgres', async () => 'up'), STOPPED);
});
