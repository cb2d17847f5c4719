import assert from 'node:assert/strict';
import { test } from 'node:test';
import { singularize } from '../../../src/sink/inflector';

// Expected values are ActiveSupport 6.1's (the differential test in test/integration/sink runs Ruby
// on a longer list); these cover each kind of rule for a fast failure.
const CASES: ReadonlyArray<readonly [string, string]> = [
  ['bookings', 'booking'],
  ['bookings_fees', 'bookings_fee'],
  ['taxes', 'tax'],
  ['statuses', 'status'],
  ['addresses', 'address'],
  ['categories', 'category'],
  ['people', 'person'],
  ['children', 'child'],
  ['women', 'woman'],
  ['mice', 'mouse'],
  ['series', 'series'],
  ['news', 'news'],
  ['equipment', 'equipment'],
  ['analyses', 'analysis'],
  ['wives', 'wife'],
  ['halves', 'half'],
  ['matrices', 'matrix'],
  ['vertices', 'vertex'],
  ['quizzes', 'quiz'],
  ['databases', 'database'],
  ['movies', 'movie'],
  ['shoes', 'shoe'],
  ['heroes', 'hero'],
  ['axes', 'axis'],
  ['data', 'datum'],
  ['photos', 'photo'],
  ['user', 'user'],
  ['', ''],
];

test('singularize follows the default English inflections of ActiveSupport', () => {
  for (const [plural, singular] of CASES) assert.equal(singularize(plural), singular, plural);
});
