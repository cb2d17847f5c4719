import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HealthMonitor, type CheckResult } from '../../../src/observability/health';

/** A health monitor on a hand-driven clock, with switchable dependencies. */
function setup(livenessTimeoutMs = 60_000) {
  const clock = { ms: 1_000_000 };
  const deps = {
    postgres: { ok: true, detail: 'SELECT 1 answered' } as CheckResult,
    kafka: true,
  };
  const health = new HealthMonitor({
    livenessTimeoutMs,
    database: { status: () => deps.postgres },
    kafka: { isConnected: () => deps.kafka },
    now: () => clock.ms,
  });
  return { clock, deps, health };
}

describe('liveness', () => {
  test('alive up to the timeout after the last claim attempt, stalled after it', () => {
    const { clock, health } = setup(60_000);
    health.markStarted();
    clock.ms += 60_000;
    assert.equal(health.liveness().ok, true);
    clock.ms += 1;
    const stalled = health.liveness();
    assert.equal(stalled.ok, false);
    assert.equal(stalled.sinceLastClaimMs, 60_001);
    assert.match(stalled.reason ?? '', /no claim attempt finished for 60001 ms \(health\.livenessTimeoutMs = 60000\)/);
  });

  test('every finished claim attempt is a heartbeat', () => {
    const { clock, health } = setup(1_000);
    health.markStarted();
    for (let i = 0; i < 5; i++) {
      clock.ms += 900;
      health.claimFinished();
    }
    assert.deepEqual(health.liveness(), { ok: true, sinceLastClaimMs: 0, timeoutMs: 1_000 });
  });

  test('the time before the loop starts (connecting to Kafka) does not count as a stall', () => {
    const { clock, health } = setup(1_000);
    clock.ms += 5_000;
    health.markStarted();
    assert.equal(health.liveness().ok, true);
  });
});

describe('readiness', () => {
  test('not ready before the loop started, ready once it did and both dependencies answer', () => {
    const { health } = setup();
    const before = health.readiness();
    assert.equal(before.ready, false);
    assert.deepEqual(before.down, ['config']);
    health.markStarted();
    const after = health.readiness();
    assert.equal(after.ready, true);
    assert.deepEqual(after.down, []);
    assert.equal(after.checks.postgres.detail, 'SELECT 1 answered');
  });

  test('names every dependency that is down, and recovers with them', () => {
    const { deps, health } = setup();
    health.markStarted();
    deps.postgres = { ok: false, detail: 'SELECT 1 failed: connect ECONNREFUSED' };
    deps.kafka = false;
    const down = health.readiness();
    assert.equal(down.ready, false);
    assert.deepEqual(down.down, ['postgres', 'kafka']);
    assert.match(down.checks.postgres.detail, /ECONNREFUSED/);
    deps.postgres = { ok: true, detail: 'SELECT 1 answered' };
    deps.kafka = true;
    assert.equal(health.readiness().ready, true);
  });

  test('until the loop started, the startup source speaks for each dependency and readiness says why in one sentence', () => {
    const clock = { ms: 0 };
    const waiting: Record<'postgres' | 'kafka', CheckResult> = {
      postgres: { ok: false, detail: 'waiting for PostgreSQL: connect ECONNREFUSED 127.0.0.1:5562' },
      kafka: { ok: false, detail: 'waiting for Kafka: 127.0.0.1:9312: connect ECONNREFUSED 127.0.0.1:9312' },
    };
    const health = new HealthMonitor({
      livenessTimeoutMs: 1_000,
      database: { status: () => ({ ok: false, detail: 'not checked yet' }) },
      kafka: { isConnected: () => false },
      startup: { status: (dependency) => waiting[dependency] },
      now: () => clock.ms,
    });
    const both = health.readiness();
    assert.deepEqual(both.down, ['config', 'postgres', 'kafka']);
    assert.equal(both.checks.postgres.detail, waiting.postgres.detail);
    assert.equal(both.reason, `${waiting.postgres.detail}; ${waiting.kafka.detail}`);
    waiting.postgres = { ok: true, detail: 'PostgreSQL answers' };
    assert.equal(health.readiness().reason, waiting.kafka.detail);
    waiting.kafka = { ok: true, detail: 'Kafka answers' };
    assert.equal(health.readiness().reason, 'starting');
    // Waiting is not being stuck: liveness holds however long it takes.
    clock.ms += 3_600_000;
    assert.deepEqual(health.liveness(), { ok: true, sinceLastClaimMs: 0, timeoutMs: 1_000 });
    health.markStarted();
    assert.equal(health.liveness().ok, true);
    // Once started, the live sources speak again.
    assert.equal(health.readiness().checks.postgres.detail, 'not checked yet');
  });

  test('a database outage does not touch liveness while claim attempts keep finishing', () => {
    const { clock, deps, health } = setup(1_000);
    health.markStarted();
    deps.postgres = { ok: false, detail: 'down' };
    clock.ms += 800;
    health.claimFinished();
    clock.ms += 800;
    assert.equal(health.readiness().ready, false);
    assert.equal(health.liveness().ok, true);
  });
});
