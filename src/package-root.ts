import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The folder holding the relay's package.json (and sql/, config/), found from this file's
 * location so it works from dist/ (installed), build/ (tests) and an image's /app alike.
 */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'sql'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the dionysus-relay package root above ${__dirname}`);
    dir = parent;
  }
}
