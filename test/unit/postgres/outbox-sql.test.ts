import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { outboxStatements } from '../../../src/postgres/outbox-sql';

describe('markPublishedAndCommit', () => {
  const sql = outboxStatements('"s"."dionysus_outboxes"');

  test('the parameterized mark with the ids inlined, then COMMIT', () => {
    const text = sql.markPublishedAndCommit(['1', '42', '9223372036854775807']);
    assert.equal(text, `${sql.markPublished.text.replace('$1::bigint[]', "'{1,42,9223372036854775807}'::bigint[]")}; COMMIT`);
  });

  test('anything but integer text is never inlined', () => {
    for (const bad of ["1'); DROP TABLE x; --", '1.5', '', ' 1', '1e3', '12345678901234567890']) {
      assert.equal(sql.markPublishedAndCommit(['1', bad]), undefined, JSON.stringify(bad));
    }
    assert.equal(sql.markPublishedAndCommit([]), undefined);
  });

  test('on_publish delete deletes instead', () => {
    const del = outboxStatements('t', 'delete');
    assert.equal(del.markPublishedAndCommit(['7']), "DELETE FROM t WHERE id = ANY('{7}'::bigint[]); COMMIT");
    assert.equal(del.markPublished.text, 'DELETE FROM t WHERE id = ANY($1::bigint[])');
  });
});
