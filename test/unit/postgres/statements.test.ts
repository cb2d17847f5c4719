import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TABLE_HEALTH, backlogStatement } from '../../../src/postgres/backlog-sql';
import { CAPABILITIES, ID_COLUMN_TYPE, RELATION_COLUMNS, RESULT_COLUMN_TYPES, TABLE_COLUMNS, TABLE_INDEXES, explainSerializer, pendingByClass } from '../../../src/postgres/catalog-sql';
import { crashTrackerSql, setAsideStatement } from '../../../src/postgres/crash-tracker-sql';
import { genesisRunStatements, idCount, idPage } from '../../../src/postgres/genesis-sql';
import { qualifiedTable, quoteIdent, quoteRelation } from '../../../src/postgres/identifiers';
import { LOCK_INSTANCE } from '../../../src/postgres/lock-sql';
import { MIGRATION_STATEMENTS, createSchema } from '../../../src/postgres/migrator-sql';
import { observerFirstPage, observerNextPage } from '../../../src/postgres/observer-sql';
import { outboxStatements } from '../../../src/postgres/outbox-sql';
import { PING } from '../../../src/postgres/session-sql';
import { SLOT_HOLDERS, TRY_SLOT } from '../../../src/postgres/slot-sql';
import { packageRoot } from '../../../src/package-root';
import type { Statement } from '../../../src/postgres/statement';

// A named statement is prepared on every connection that runs it, and PostgreSQL refuses a second
// text under a name a connection has already prepared: within one relay process (one outbox
// configuration), every name must stand for one text.

function isStatement(value: object): value is Statement {
  return 'name' in value && typeof value.name === 'string' && 'text' in value && typeof value.text === 'string';
}

function statementsIn(value: unknown): Statement[] {
  if (typeof value !== 'object' || value === null) return [];
  return isStatement(value) ? [value] : Object.values(value).flatMap(statementsIn);
}

function everyStatement(onPublish: 'mark' | 'delete', relayXids: boolean): Statement[] {
  const table = qualifiedTable('s', 'dionysus_outboxes');
  return [
    ...statementsIn(outboxStatements(table, onPublish, { relayXids })),
    ...statementsIn(crashTrackerSql),
    setAsideStatement(table),
    LOCK_INSTANCE,
    CAPABILITIES,
    TABLE_COLUMNS,
    TABLE_INDEXES,
    pendingByClass(table),
    ID_COLUMN_TYPE,
    RELATION_COLUMNS,
    RESULT_COLUMN_TYPES,
    explainSerializer('SELECT 1'),
    backlogStatement(table),
    TABLE_HEALTH,
    ...statementsIn(genesisRunStatements(qualifiedTable('s', 'dionysus_relay_genesis_runs'))),
    idPage('"users"', 'id IS NOT NULL', 1),
    idCount('"users"', 'id IS NOT NULL'),
    observerFirstPage('SELECT id FROM rentals WHERE account_id = ANY($1::bigint[])'),
    observerNextPage('SELECT id FROM rentals WHERE account_id = ANY($1::bigint[])'),
    ...statementsIn(MIGRATION_STATEMENTS),
    createSchema('s'),
    PING,
    TRY_SLOT,
    SLOT_HOLDERS,
  ];
}

for (const onPublish of ['mark', 'delete'] as const) {
  for (const relayXids of [false, true]) {
    test(`statement names are unique (on_publish ${onPublish}, relay xids ${relayXids})`, () => {
      const statements = [...new Set(everyStatement(onPublish, relayXids))];
      assert.ok(statements.length > 30, `collected ${statements.length} statements`);
      const byName = new Map<string, string>();
      for (const s of statements) {
        assert.match(s.name, /^dionysus_relay_[a-z_]+$/, s.name);
        const other = byName.get(s.name);
        assert.ok(other === undefined || other === s.text, `two statements are named ${s.name}`);
        byName.set(s.name, s.text);
      }
      assert.equal(byName.size, statements.length, 'no name is used twice');
    });
  }
}

// Names in the SQL modules that are not statements: tables, the NOTIFY channel, an advisory lock key.
const NOT_STATEMENTS = new Set(['dionysus_relay_inflight', 'dionysus_relay_suspects', 'dionysus_relay_outbox', 'dionysus_relay_migrations']);

test('every statement name written in a postgres/*-sql.ts module is among those checked above', () => {
  const dir = join(packageRoot(), 'src', 'postgres');
  const written = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('-sql.ts'))) {
    for (const [, name] of readFileSync(join(dir, file), 'utf8').matchAll(/'(dionysus_relay_[a-z_]+)'/g)) {
      if (!NOT_STATEMENTS.has(name as string)) written.add(name as string);
    }
  }
  const checked = new Set([...everyStatement('mark', true), ...everyStatement('delete', true)].map((s) => s.name));
  assert.deepEqual([...written].filter((name) => !checked.has(name)).sort(), []);
});

test('identifiers are quoted, embedded quotes doubled', () => {
  assert.equal(quoteIdent('users'), '"users"');
  assert.equal(quoteIdent('we"ird'), '"we""ird"');
  assert.equal(qualifiedTable('app', 'dionysus_outboxes'), '"app"."dionysus_outboxes"');
  assert.equal(quoteRelation('reporting.admin_users'), '"reporting"."admin_users"');
  assert.equal(quoteRelation('Users'), '"Users"');
});
