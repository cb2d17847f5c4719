import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, test } from 'node:test';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import type { LivenessReport, ReadinessReport } from '../../../src/observability/health';
import { HttpServer } from '../../../src/observability/http-server';

// The server on the loopback interface with hand-set health answers: status codes, bodies and
// content types, and the start/stop contract. No database or broker involved.

const silent = pino({ level: 'silent' });

function answers() {
  const state = {
    liveness: { ok: true, sinceLastClaimMs: 10, timeoutMs: 60_000 } as LivenessReport,
    readiness: {
      ready: true,
      checks: {
        config: { ok: true, detail: 'validated' },
        postgres: { ok: true, detail: 'SELECT 1 answered' },
        kafka: { ok: true, detail: 'producer connected' },
      },
      down: [],
    } as ReadinessReport,
  };
  return { state, health: { liveness: () => state.liveness, readiness: () => state.readiness } };
}

async function disabledServer(registry = new Registry()) {
  const { state, health } = answers();
  const server = new HttpServer({ host: '127.0.0.1', port: 0 }, registry, health, silent);
  return { state, registry, server };
}

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** A port nobody listens on right now: bind port 0, read it, close. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

async function listening(registry = new Registry()) {
  const port = await freePort();
  const { state, health } = answers();
  const server = new HttpServer({ host: '127.0.0.1', port }, registry, health, silent);
  await server.start();
  return { state, server, port };
}

describe('HttpServer', () => {
  test('port 0 disables the server: start and stop do nothing', async () => {
    const { server } = await disabledServer();
    assert.equal(server.enabled, false);
    await server.start();
    assert.equal(server.port, undefined);
    await server.stop();
  });

  test('/metrics is the registry text with the registry content type', async () => {
    const registry = new Registry();
    new Counter({ name: 'dionysus_relay_test_total', help: 'a test counter', registers: [registry] }).inc(3);
    const { server, port } = await listening(registry);
    try {
      const res = await get(port, '/metrics');
      assert.equal(res.status, 200);
      assert.equal(res.type, registry.contentType);
      assert.match(res.body, /^dionysus_relay_test_total 3$/m);
    } finally {
      await server.stop();
    }
  });

  test('/healthz: 200 while alive, 503 with the reason when stalled', async () => {
    const { state, server, port } = await listening();
    try {
      const ok = await get(port, '/healthz');
      assert.equal(ok.status, 200);
      assert.match(ok.type, /^application\/json/);
      assert.equal((JSON.parse(ok.body) as { status: string }).status, 'ok');
      state.liveness = { ok: false, sinceLastClaimMs: 70_000, timeoutMs: 60_000, reason: 'no claim attempt finished for 70000 ms' };
      const stalled = await get(port, '/healthz');
      assert.equal(stalled.status, 503);
      assert.equal((JSON.parse(stalled.body) as { reason: string }).reason, 'no claim attempt finished for 70000 ms');
    } finally {
      await server.stop();
    }
  });

  test('/readyz: 200 when ready, 503 naming what is down', async () => {
    const { state, server, port } = await listening();
    try {
      assert.equal((await get(port, '/readyz')).status, 200);
      state.readiness = {
        ready: false,
        checks: { ...state.readiness.checks, postgres: { ok: false, detail: 'SELECT 1 failed: ECONNREFUSED' } },
        down: ['postgres'],
      };
      const res = await get(port, '/readyz');
      assert.equal(res.status, 503);
      const body = JSON.parse(res.body) as ReadinessReport & { status: string };
      assert.equal(body.status, 'not ready');
      assert.deepEqual(body.down, ['postgres']);
      assert.equal(body.checks.postgres.detail, 'SELECT 1 failed: ECONNREFUSED');
    } finally {
      await server.stop();
    }
  });

  test('unknown paths are 404, other methods 405, HEAD has no body', async () => {
    const { server, port } = await listening();
    try {
      assert.equal((await get(port, '/nope')).status, 404);
      assert.equal((await get(port, '/metrics', 'POST')).status, 405);
      const head = await get(port, '/healthz', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
    } finally {
      await server.stop();
    }
  });

  test('a taken port fails start with CONFIG_INVALID naming host and port', async () => {
    const { server: first, port } = await listening();
    try {
      const { health } = answers();
      const second = new HttpServer({ host: '127.0.0.1', port }, new Registry(), health, silent);
      await assert.rejects(second.start(), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CONFIG_INVALID');
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port} \\(HTTP_HOST/HTTP_PORT\\).*EADDRINUSE`));
        return true;
      });
      await second.stop();
    } finally {
      await first.stop();
    }
  });

  test('stop is idempotent, shared by concurrent callers, closes keep-alive connections and frees the port', async () => {
    const { server, port } = await listening();
    // A keep-alive connection stays open after its response; stop must not wait for it to idle out.
    assert.equal((await get(port, '/healthz')).status, 200);
    await Promise.all([server.stop(), server.stop()]);
    await server.stop();
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
    const { health } = answers();
    const again = new HttpServer({ host: '127.0.0.1', port }, new Registry(), health, silent);
    await again.start();
    await again.stop();
  });

  test('stop before start is safe and a later start does not listen', async () => {
    const port = await freePort();
    const { health } = answers();
    const server = new HttpServer({ host: '127.0.0.1', port }, new Registry(), health, silent);
    await server.stop();
    await server.start();
    assert.equal(server.port, undefined);
  });
});
