#!/usr/bin/env node
// Rewrites the settings table of README.md from the convict schema (src/config/settings-schema.ts).
// Usage: npm run docs:settings (compiles first). test/unit/docs/readme.test.ts fails while the
// README's table and the schema disagree.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { withSettingsTable } = require(join(__dirname, '..', 'dist', 'config', 'settings-table.js'));

const file = join(__dirname, '..', 'README.md');
const before = readFileSync(file, 'utf8');
const after = withSettingsTable(before);
if (after === before) {
  console.log('README.md: the settings table is up to date');
} else {
  writeFileSync(file, after);
  console.log('README.md: settings table rewritten from src/config/settings-schema.ts');
}
