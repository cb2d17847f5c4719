import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changesetFromColumn } from '../../../src/domain/outbox-row';

// The changeset as the claim returns it: an object from a json(b) column, text from a text column.

test('an object read from a json(b) column is the changeset', () => {
  assert.deepEqual(changesetFromColumn({ name: ['a', 'b'] }), { name: ['a', 'b'] });
});

test('the text of a text column is parsed when it is a JSON object', () => {
  assert.deepEqual(changesetFromColumn('{"name": ["a", "b"]}'), { name: ['a', 'b'] });
});

test('anything else names no attribute: encrypted text, other JSON, nothing', () => {
  for (const value of ['v1:AAAAb3BhcXVl==', '', '["name"]', '"name"', '42', 'null', null, undefined, 42, ['name']]) {
    assert.equal(changesetFromColumn(value), null, JSON.stringify(value));
  }
});
