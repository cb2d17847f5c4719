import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { TEST_DATABASE_URL } from '../../helpers/env';
import { startRelay, type RelayProcess, usersTopicsFile } from '../../helpers/relay-process';
import { TcpProxy, freePort, httpGet, waitFor, type HttpAnswer } from './support';

// /readyz follows PostgreSQL down and back up in one relay process, while /healthz stays 200.
//
// The shared PostgreSQL must keep running for the other test files, so this relay reaches it
// through a TCP proxy of its own: cutting the proxy (no listener, open connections destroyed) is
// an outage for this relay only, and listening again on the same port ends it.

let db: TestDatabase;
let relay: RelayProcess | undefined;
let proxy: TcpProxy;
const users = new UsersFixture('obsr');
const { namespace } = users;

before(async () => {
  db = await users.setUp();
  const target = new URL(TEST_DATABASE_URL);
  proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  await proxy.start();
});

after(async () => {
  relay?.kill('SIGKILL');
  await proxy.stop();
  await users.tearDown();
});

interface ReadyBody {
  status: string;
  down: string[];
  checks: Record<string, { ok: boolean; detail: string }>;
}

test('/readyz turns 503 naming postgres while it is unreachable and 200 again after, in the same process', async () => {
  const viaProxy = new URL(TEST_DATABASE_URL);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const topicsFile = usersTopicsFile(namespace);
  const port = await freePort();
  relay = startRelay(['run', '--topics', topicsFile], {
    ...db.relayEnv(),
    DATABASE_URL: viaProxy.toString(),
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: String(port),
    HEALTH_READINESS_INTERVAL_MS: '200',
    // Why /healthz stays 200 through the outage: liveness counts finished claim ATTEMPTS, failed
    // ones included (batch-processor reports claimFinished in a `finally`). While PostgreSQL is
    // unreachable the loop keeps attempting claims, each failing fast (connection refused), with
    // its error backoff capped at 30 s, so the gap between heartbeats stays far below this
    // timeout (the default, spelled out here). Restarting a relay would not bring the database
    // back; readiness is what reports the outage.
    HEALTH_LIVENESS_TIMEOUT_MS: '60000',
  });
  const running = relay;
  await running.waitForLog('relay running');
  const pid = running.child.pid;
  let readyz: HttpAnswer | undefined;
  const seen = (): string => `${readyz?.status} ${readyz?.body}\n${running.output()}`;

  readyz = await waitFor('/readyz 200', async () => {
    readyz = await httpGet(port, '/readyz');
    return readyz.status === 200 ? readyz : undefined;
  }, { describe: seen, relay: running });
  assert.equal((JSON.parse(readyz.body) as ReadyBody).status, 'ready');

  // Outage.
  const outputBeforeCut = running.output().length;
  await proxy.cut();
  readyz = await waitFor('/readyz 503', async () => {
    readyz = await httpGet(port, '/readyz');
    return readyz.status === 503 ? readyz : undefined;
  }, { describe: seen, relay: running });
  const body = JSON.parse(readyz.body) as ReadyBody;
  assert.equal(body.status, 'not ready');
  assert.deepEqual(body.down, ['postgres']);
  assert.equal(body.checks['kafka']?.ok, true);
  assert.match(body.checks['postgres']?.detail ?? '', /SELECT 1/);
  // The loop keeps trying (and failing) to claim during the outage: proof it is not wedged. (The
  // loop's log line for a failed claim: "batch abandoned: claim on <topic> failed: …" or
  // "batch abandoned: cannot connect to PostgreSQL: …".)
  const failedSinceCut = async (): Promise<true | undefined> =>
    /batch abandoned: (claim on \S+ failed|cannot connect to PostgreSQL)/.test(running.output().slice(outputBeforeCut)) ? true : undefined;
  await waitFor('a failed claim attempt during the outage', failedSinceCut, {
    describe: () => running.output().slice(outputBeforeCut),
    relay: running,
  });
  const healthz = await httpGet(port, '/healthz');
  assert.equal(healthz.status, 200, healthz.body);
  assert.equal((await httpGet(port, '/readyz')).status, 503);

  // Recovery, same process.
  await proxy.restore();
  readyz = await waitFor('/readyz 200 again', async () => {
    readyz = await httpGet(port, '/readyz');
    return readyz.status === 200 ? readyz : undefined;
  }, { describe: seen, relay: running });
  assert.deepEqual((JSON.parse(readyz.body) as ReadyBody).down, []);
  assert.equal(running.child.pid, pid);
  assert.equal(running.child.exitCode, null, 'the relay was not restarted');
  assert.equal((await httpGet(port, '/healthz')).status, 200);

  running.kill('SIGTERM');
  assert.equal(await running.exited, 0, running.output());
});
