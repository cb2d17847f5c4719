import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { SETTINGS_TABLE_BEGIN, SETTINGS_TABLE_END, firstSentence, settingsReference, settingsTable, withSettingsTable } from '../../../src/config/settings-table';
import { packageRoot } from '../../../src/package-root';

// The user's documents state what the code does: the settings table is the convict schema's, the
// README stays short enough to read, and no link points at a file or section that is gone.

const root = packageRoot();
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const documents = ['README.md', ...readdirSync(join(root, 'docs')).map((f) => `docs/${f}`), 'helm/dionysus-relay/README.md'];

test("README's settings table is the convict schema's (npm run docs:settings rewrites it)", () => {
  const begin = readme.indexOf(SETTINGS_TABLE_BEGIN);
  const end = readme.indexOf(SETTINGS_TABLE_END);
  assert.ok(begin >= 0 && end > begin, 'README.md has the settings table markers');
  assert.equal(readme.slice(begin + SETTINGS_TABLE_BEGIN.length, end).trim(), settingsTable(), 'run `npm run docs:settings`');
  assert.equal(withSettingsTable(readme), readme);
  for (const env of ['DATABASE_URL', 'KAFKA_BROKERS', 'RELAY_BATCH_SIZE', 'METRICS_BACKLOG_INTERVAL_MS']) {
    assert.match(settingsTable(), new RegExp(`\\| \`${env}\` \\|`), env);
  }
});

test("docs/settings.md's reference is the convict schema's, with every key and accepted values", () => {
  const reference = readFileSync(join(root, 'docs', 'settings.md'), 'utf8');
  assert.equal(withSettingsTable(reference, settingsReference()), reference, 'run `npm run docs:settings`');
  assert.match(settingsReference(), /\| `RELAY_BATCH_SIZE` \| `relay\.batchSize` \| `1000` \| whole number 1..100000 \|/);
});

test('the README shows the first sentence of each setting', () => {
  assert.equal(firstSentence('Rows claimed per batch. Each row takes a lock.'), 'Rows claimed per batch.');
  assert.equal(firstSentence('Delete rows older than this (e.g. 3d, 12h); empty = off. Unpublished rows stay.'), 'Delete rows older than this (e.g. 3d, 12h); empty = off.');
  assert.equal(firstSentence('What happens: mark or delete. `mark` sets published_at.'), 'What happens: mark or delete.');
  assert.equal(firstSentence('No full stop'), 'No full stop');
});

test('README is under 16,000 characters and opens with a table of contents', () => {
  assert.ok(readme.length < 16_000, `README.md has ${readme.length} characters`);
  assert.match(readme, /^## Contents\n/m);
});

/** Markdown outside fenced code blocks. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const headings = prose(readFileSync(join(root, file), 'utf8')).match(/^#{1,6} .+$/gm) ?? [];
  return new Set(headings.map((h) => anchor(h.replace(/^#+ /, ''))));
}

for (const doc of documents) {
  test(`${doc}: every relative link points at an existing file and section`, () => {
    const links = [...prose(readFileSync(join(root, doc), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string);
    for (const link of links.filter((l) => !/^[a-z]+:/.test(l))) {
      const [path = '', section] = link.split('#');
      const target = path === '' ? doc : join(dirname(doc), path);
      assert.ok(existsSync(join(root, target)), `${doc}: ${link} (no file ${target})`);
      if (section !== undefined && target.endsWith('.md')) {
        assert.ok(anchorsOf(target).has(section), `${doc}: ${link} (no such section in ${target})`);
      }
    }
  });
}
