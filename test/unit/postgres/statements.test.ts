import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TABLE_HEALTH, backlogStatement } from '../../../src/postgres/backlog-sql';
import { CAPABILITIES, ID_COLUMN_TYPE, RELATION_COLUMNS, TABLE_COLUMNS, TABLE_INDEXES, explainSerializer, pendingByClass } from '../../../src/postgres/catalog-sql';
import { crashTrackerSql, setAsideStatement } from '../../../src/postgres/crash-tracker-sql';
import { genesisRunStatements, idCount, idPage } from '../../../src/postgres/genesis-sql';
import { qualifiedTable, quoteIdent, quoteRelation } from '../../../src/postgres/identifiers';
import { LOCK_INSTANCE } from '../../../src/postgres/lock-sql';
import { MIGRATION_STATEMENTS, createSchema } from '../../../src/postgres/migrator-sql';
import { outboxStatements } from '../../../src/postgres/outbox-sql';
import { PING } from '../../../src/postgres/session-sql';
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
    explainSerializer('SELECT 1'),
    backlogStatement(table),
    TABLE_HEALTH,
    ...statementsIn(genesisRunStatements(qualifiedTable('s', 'dionysus_relay_genesis_runs'))),
    idPage('"users"', 'id IS NOT NULL', 1),
    idCount('"users"', 'id IS NOT NULL'),
    ...statementsIn(MIGRATION_STATEMENTS),
    createSchema('s'),
    PING,
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

test('identifiers are quoted, embedded quotes doubled', () => {
  assert.equal(quoteIdent('users'), '"users"');
  assert.equal(quoteIdent('we"ird'), '"we""ird"');
  assert.equal(qualifiedTable('app', 'dionysus_outboxes'), '"app"."dionysus_outboxes"');
  assert.equal(quoteRelation('reporting.admin_users'), '"reporting"."admin_users"');
  assert.equal(quoteRelation('Users'), '"Users"');
});
