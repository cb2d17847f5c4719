#!/usr/bin/env node
// Runs the compiled test files with node's own test runner.
// Usage: node scripts/run-tests.js <unit|integration|all> [substring ...]
// Node 20's runner does not expand globs, so the file list is built here.
'use strict';
const { readdirSync, statSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..', 'build', 'test');
// Services on other ports (scripts/services.sh): the tests find them through these variables.
if (!process.env.TEST_DATABASE_URL && process.env.DIONYSUS_PG_PORT) {
  process.env.TEST_DATABASE_URL = `postgres://dionysus:dionysus@127.0.0.1:${process.env.DIONYSUS_PG_PORT}/dionysus_relay`;
}
if (!process.env.TEST_KAFKA_BROKERS && process.env.DIONYSUS_KAFKA_PORT) {
  process.env.TEST_KAFKA_BROKERS = `127.0.0.1:${process.env.DIONYSUS_KAFKA_PORT}`;
}
const [kind = 'all', ...filters] = process.argv.slice(2);
const kinds = kind === 'all' ? ['unit', 'integration'] : [kind];

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith('.test.js') ? [path] : [];
  });
}

const files = kinds
  .flatMap((k) => walk(join(root, k)))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`run-tests: no compiled test files for "${kind}" under ${root} (npm run build:test compiles them)`);
  process.exit(1);
}
// Integration tests isolate themselves (own schema, own topics), so two files may run at once on 2 cores.
const concurrency = process.env.TEST_CONCURRENCY || (kind === 'unit' ? '4' : '2');
const args = ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files];
const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(result.status === null ? 1 : result.status);
