import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root';

/**
 * The image's contents without Docker: scripts/build-image.sh (what the Dockerfile's builder stage
 * runs) fills a fresh folder outside the checkout. Every user may read it, so a test can run the
 * daemon from it as another user even when the checkout sits in a folder only its owner can enter.
 */
export interface ImageFolder {
  readonly dir: string;
  /** The image's entry point, `dist/cli/bin.js`. */
  readonly cli: string;
  remove(): void;
}

export function buildImageFolder(): ImageFolder {
  const dir = mkdtempSync(join(tmpdir(), 'dionysus-relay-image-'));
  // --reuse-node-modules: the checkout's node_modules already hold the compiled librdkafka.
  const build = spawnSync('bash', ['scripts/build-image.sh', dir, '--reuse-node-modules', '--force'], {
    cwd: packageRoot(),
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  assert.equal(build.status, 0, `${build.stdout}\n${build.stderr}`);
  // mkdtemp makes the folder private, and a umask may have done the same to what was copied into it.
  const chmod = spawnSync('chmod', ['-R', 'a+rX', dir], { encoding: 'utf8' });
  assert.equal(chmod.status, 0, chmod.stderr);
  return { dir, cli: join(dir, 'dist', 'cli', 'bin.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
