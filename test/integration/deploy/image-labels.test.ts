/**
 * The image's OCI labels without Docker: the Dockerfile's runtime stage sets them from build args,
 * and scripts/build-image.sh (what its builder stage runs) records the same labels in
 * OUTDIR/image-labels.json. This test reads the Dockerfile's LABEL instruction, fills in the same
 * build args, and requires the two to be equal; then it checks the script's own defaults.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { packageRoot } from '../../../src/package-root';

const ROOT = packageRoot();
const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function instructions(): string[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  return text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

/** ARG defaults declared before the first FROM (the ones later stages re-declare without a value). */
function globalArgDefaults(all: string[]): Record<string, string> {
  const defaults: Record<string, string> = {};
  for (const line of all) {
    if (line.startsWith('FROM ')) break;
    const match = /^ARG (\w+)=(?:"([^"]*)"|(\S*))$/.exec(line);
    if (match) defaults[match[1] as string] = match[2] ?? match[3] ?? '';
  }
  return defaults;
}

/** The runtime stage's labels with ${ARG}s replaced by `args` (else the Dockerfile's defaults). */
function dockerfileLabels(args: Record<string, string>): Record<string, string> {
  const all = instructions();
  const values = { ...globalArgDefaults(all), ...args };
  const lastStage = all.slice(all.map((l) => l.startsWith('FROM ')).lastIndexOf(true));
  const label = lastStage.filter((l) => l.startsWith('LABEL '));
  assert.equal(label.length, 1, 'one LABEL instruction in the runtime stage');
  const labels: Record<string, string> = {};
  for (const [, key, value] of (label[0] as string).matchAll(/([\w.-]+)="([^"]*)"/g)) {
    labels[key as string] = (value as string).replace(/\$\{(\w+)\}/g, (_, name: string) => {
      assert.ok(name in values, `the LABEL uses \${${name}}, which is no ARG`);
      return values[name] as string;
    });
  }
  return labels;
}

function buildImage(extra: string[]): { status: number | null; output: string; out: string; labels?: Record<string, string> } {
  const out = mkdtempSync(join(tmpdir(), 'dionysus-relay-labels-'));
  dirs.push(out);
  // --skip-build and --reuse-node-modules: the labels do not depend on them, and the build is quick.
  const r = spawnSync('bash', ['scripts/build-image.sh', out, '--reuse-node-modules', '--skip-build', '--force', ...extra], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 5 * 60_000,
  });
  const output = `${r.stdout}\n${r.stderr}`;
  if (r.status !== 0) return { status: r.status, output, out };
  return { status: r.status, output, out, labels: JSON.parse(readFileSync(join(out, 'image-labels.json'), 'utf8')) as Record<string, string> };
}

test('the build output records exactly the labels the Dockerfile sets, from the same build args', () => {
  const args = { VERSION: '1.2.3', REVISION: '0123456789abcdef0123456789abcdef01234567', CREATED: '2026-01-31T12:00:00Z', SOURCE: 'https://git.example.com/relay' };
  const built = buildImage(['--version', args.VERSION, '--revision', args.REVISION, '--created', args.CREATED, '--source', args.SOURCE]);
  assert.equal(built.status, 0, built.output);
  const expected = dockerfileLabels(args);
  assert.deepEqual(built.labels, expected);
  for (const key of ['version', 'revision', 'created', 'source', 'licenses', 'title']) {
    assert.ok(`org.opencontainers.image.${key}` in expected, `label org.opencontainers.image.${key} missing`);
  }
  assert.equal(expected['org.opencontainers.image.version'], '1.2.3');
  assert.equal(expected['org.opencontainers.image.licenses'], 'MIT');
});

test('the Dockerfile requires the label build args and hands them to build-image.sh', () => {
  const all = instructions();
  const run = all.find((l) => l.startsWith('RUN bash scripts/build-image.sh'));
  assert.match(run ?? '', /--version "\$\{VERSION\}" --revision "\$\{REVISION\}" --created "\$\{CREATED\}" --source "\$\{SOURCE\}"/);
  assert.ok(all.some((l) => /^RUN test -n "\$\{VERSION\}" && test -n "\$\{REVISION\}" && test -n "\$\{CREATED\}"/.test(l)), 'a build without the args fails');
});

test('by hand, the script labels the checkout: package.json version, git commit, now; source as the Dockerfile', () => {
  const built = buildImage([]);
  assert.equal(built.status, 0, built.output);
  const labels = built.labels as Record<string, string>;
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(labels['org.opencontainers.image.version'], version);
  const git = spawnSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  assert.equal(labels['org.opencontainers.image.revision'], git.status === 0 ? git.stdout.trim() : 'unknown');
  assert.match(labels['org.opencontainers.image.created'] ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  assert.equal(labels['org.opencontainers.image.source'], globalArgDefaults(instructions())['SOURCE']);
  // The licence the labels name ships in the image.
  assert.equal(readFileSync(join(built.out, 'LICENSE'), 'utf8'), readFileSync(join(ROOT, 'LICENSE'), 'utf8'));
});

test('a created time that is not RFC 3339 stops the build', () => {
  const built = buildImage(['--created', 'yesterday']);
  assert.notEqual(built.status, 0);
  assert.match(built.output, /--created yesterday is not an RFC 3339 time/);
});
