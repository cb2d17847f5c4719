import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { insertOutboxRow, type TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { buildImageFolder, type ImageFolder } from '../../helpers/image';
import { consumeAll } from '../../helpers/kafka';
import { baseRelayEnv, usersTopicsFile } from '../../helpers/relay-process';

// The image's contents without Docker (buildImageFolder), and the daemon boots from that folder
// alone, as the runtime stage would: /readyz answers 200, a row is published, SIGTERM drains and exits 0.

const users = new UsersFixture('image');
const { namespace, topic } = users;
let db: TestDatabase;
let image: ImageFolder;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

before(async () => {
  db = await users.setUp();
  image = buildImageFolder();
});

after(async () => {
  image?.remove();
  await users.tearDown();
});

test('the build output boots, is ready, publishes a row and drains on SIGTERM', { timeout: 5 * 60_000 }, async () => {
  const topicsFile = usersTopicsFile(namespace);
  const port = await freePort();
  // Started from / with the folder's own entry point: nothing from the checkout is on the path.
  const child = spawn(process.execPath, [image.cli, 'run', '--topics', topicsFile], {
    cwd: '/',
    env: { ...baseRelayEnv(db.relayEnv()), HTTP_PORT: String(port), HTTP_HOST: '127.0.0.1', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const ready = await waitFor('/readyz 200', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    return response.status === 200 ? response.status : undefined;
  });
  assert.equal(ready, 200);

  await db.query(`INSERT INTO users VALUES (1, 'Dionysus')`);
  await insertOutboxRow(db, { resourceClass: 'User', resourceId: 1, event: 'user_created', topic });
  const [message] = await consumeAll(topic, 1);
  assert.equal(message?.key, 'User:1');
  await waitFor('the row marked published', async () => {
    const [row] = await db.query<{ published: boolean }>('SELECT published_at IS NOT NULL AS published FROM dionysus_outboxes');
    return row?.published === true ? true : undefined;
  });

  child.kill('SIGTERM');
  assert.equal(await exited, 0, output);
  assert.match(output, /shutdown complete/);
});
