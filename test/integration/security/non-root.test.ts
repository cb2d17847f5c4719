import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { after, before, test } from 'node:test';
import type { TestDatabase } from '../../helpers/database';
import { UsersFixture } from '../../helpers/fixtures';
import { consumeAll } from '../../helpers/kafka';
import { buildImageFolder, type ImageFolder } from '../../helpers/image';
import { baseRelayEnv, usersTopicsFile } from '../../helpers/relay-process';

// The daemon runs as a user without privileges and writes nothing outside its temp folder: the
// relay runs as `nobody` (uid 65534; when the suite itself is not root, as the suite's user), with
// `/` as its working directory and a home that does not exist, publishes, and afterwards no file
// of that user newer than the start exists in any directory it could have written to except the
// temp folder. It runs from the image's build output, as in production: `nobody` may not be able to
// enter the checkout at all (a clone in a home folder of mode 0700).

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const uid = asRoot ? NOBODY : (process.getuid?.() ?? NOBODY);
const gid = asRoot ? NOBODY : (process.getgid?.() ?? NOBODY);

let db: TestDatabase;
let image: ImageFolder;
const users = new UsersFixture('nonroot', { users: 5, outboxRows: true });
const { namespace, topic } = users;

before(async () => {
  db = await users.setUp();
  image = buildImageFolder();
});

after(async () => {
  image?.remove();
  await users.tearDown();
});

/** Output lines of `find` (exit status ignored: unreadable corners are not ours to judge). */
function find(args: readonly string[]): string[] {
  const r = spawnSync('find', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return r.stdout.split('\n').filter((line) => line !== '');
}

/** Directories other users may write into: where an unprivileged process could leave files. */
function worldWritableDirs(): string[] {
  return find(['/', '/dev/shm', '-xdev', '-type', 'd', '-perm', '-0002', '-not', '-path', '/proc/*']);
}

test('runs as an unprivileged user with a read-only working directory and writes only to its temp folder', async () => {
  const file = usersTopicsFile(namespace);
  // mkdtemp makes the folder private to the suite's user: let the relay's user read the topics file.
  chmodSync(dirname(file), 0o755);
  chmodSync(file, 0o644);
  const startedAt = new Date(Date.now() - 1000);

  const child = spawn(process.execPath, [image.cli, 'run', '--exit-when-idle', '--topics', file], {
    cwd: '/',
    uid,
    gid,
    env: baseRelayEnv({ ...db.relayEnv(), HOME: '/nonexistent', HEALTH_COMPAT_FILE: 'true' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, output);
  assert.match(output, /"msg":"relay running"/);

  const [published] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dionysus_outboxes WHERE published_at IS NOT NULL`);
  assert.equal(published?.n, 5);
  const messages = await consumeAll(topic, 5, { settleMs: 500 });
  assert.equal(messages.length, 5);

  const tmp = process.env['TMPDIR'] ?? '/tmp';
  const candidates = worldWritableDirs().filter((d) => d !== tmp && !d.startsWith(`${tmp}/`));
  assert.ok(candidates.length > 0, 'found the world-writable directories to inspect');
  // Depth 3 is enough: anything deeper needs a new folder first, which shows.
  const written = find([...candidates, '-xdev', '-maxdepth', '3', '-uid', String(uid), '-newermt', startedAt.toISOString(), '-print']);
  assert.deepEqual(written, [], `files the relay wrote outside ${tmp}`);
});
