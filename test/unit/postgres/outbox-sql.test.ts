import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { beginAndClaimText } from '../../../src/postgres/claim-sql';
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

describe('beginAndClaimText', () => {
  const sql = outboxStatements('"s"."dionysus_outboxes"', 'mark', { relayXids: true });
  const params = { topic: "o'hara\\users", delayMs: 1500, limit: 1000, changesetValues: ["booking_id", "it's"] };

  test('BEGIN and settings first, then the claim with every parameter written as a literal', () => {
    for (const claim of Object.values(sql.claims)) {
      const text = beginAndClaimText(sql.beginClaim, claim, params);
      assert.ok(text.startsWith(`${sql.beginClaim}; `));
      assert.doesNotMatch(text, /\$\d/, claim.name);
      // pg's escapeLiteral: quotes doubled, a backslash makes it an E'' literal with the backslash doubled.
      assert.ok(text.includes(`topic =  E'o''hara\\\\users'`), claim.name);
      assert.ok(text.includes('LIMIT 1000'), claim.name);
      assert.ok(text.includes('make_interval(secs => 1500::float8 / 1000)'), claim.name);
    }
    const withChangeset = beginAndClaimText(sql.beginClaim, sql.claims.withChangeset, params);
    assert.ok(withChangeset.includes(`e.key = ANY(ARRAY['booking_id','it''s']::text[]`));
    assert.ok(beginAndClaimText(sql.beginClaim, sql.claims.withChangeset, { ...params, changesetValues: [] }).includes('ANY(ARRAY[]::text[]'));
  });

  test('numbers are checked, never trusted into the text', () => {
    assert.throws(() => beginAndClaimText(sql.beginClaim, sql.claim, { ...params, limit: 0 }), RangeError);
    assert.throws(() => beginAndClaimText(sql.beginClaim, sql.claim, { ...params, limit: 1.5 }), RangeError);
    assert.throws(() => beginAndClaimText(sql.beginClaim, sql.claim, { ...params, delayMs: Number.NaN }), RangeError);
    assert.throws(() => beginAndClaimText(sql.beginClaim, sql.claim, { ...params, delayMs: -1 }), RangeError);
  });
});
