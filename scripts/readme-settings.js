#!/usr/bin/env node
// Rewrites the settings tables of README.md (env var, default, first sentence) and docs/settings.md
// (the whole reference) from the convict schema (src/config/settings-schema.ts).
// Usage: npm run docs:settings (compiles first). test/unit/docs/readme.test.ts fails while a
// table and the schema disagree.
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { withSettingsTable, settingsTable, settingsReference } = require(join(__dirname, '..', 'dist', 'config', 'settings-table.js'));

for (const [name, table] of [['README.md', settingsTable()], [join('docs', 'settings.md'), settingsReference()]]) {
  const file = join(__dirname, '..', name);
  const before = readFileSync(file, 'utf8');
  const after = withSettingsTable(before, table);
  if (after === before) {
    console.log(`${name}: the settings table is up to date`);
  } else {
    writeFileSync(file, after);
    console.log(`${name}: settings table rewritten from src/config/settings-schema.ts`);
  }
}
