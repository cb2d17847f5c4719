import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { singularize } from '../../../src/sink/inflector';

// The judge of to-many link names (`bookings: [..]` → synced_booking_ids) is ActiveSupport itself:
// the Debian package ruby-activesupport (6.1) singularizes the same words, and both must agree.

const WORDS = [
  'bookings', 'bookings_fees', 'rentals_taxes', 'taxes', 'statuses', 'addresses', 'categories', 'people', 'salespeople',
  'children', 'women', 'men', 'mice', 'lice', 'series', 'news', 'equipment', 'information', 'sheep', 'fish', 'jeans',
  'police', 'analyses', 'diagnoses', 'theses', 'crises', 'tests', 'wives', 'knives', 'halves', 'wolves', 'hives',
  'objectives', 'matrices', 'vertices', 'indices', 'quizzes', 'databases', 'movies', 'shoes', 'heroes', 'potatoes',
  'axes', 'data', 'media', 'photos', 'buses', 'aliases', 'octopi', 'viri', 'oxen', 'moves', 'removes', 'zombies',
  'sexes', 'users', 'user', 'status', 'bus', 'glasses', 'boxes', 'churches', 'dishes', 'queries', 'days', 'keys',
  'line_items', 'admin_users', 'photo_albums', 'companies', 'histories', 'entries', 'accounts', 'fees', 'ids', 'links',
  'permissions', 'preferences', 'cases', 'phases', 'houses', 'bases', 'responses', 'licenses', 'purchases', 'species',
];

test('singularize agrees with ActiveSupport on every word', (t) => {
  const ruby = spawnSync('ruby', ['-ractive_support', '-ractive_support/inflector', '-e', 'STDIN.read.split("\\n").each { |w| puts ActiveSupport::Inflector.singularize(w) }'], {
    input: WORDS.join('\n'),
    encoding: 'utf8',
  });
  if (ruby.error !== undefined || ruby.status !== 0) {
    // CI runs on this machine, where ruby-activesupport is installed: a missing reference is a failure, not a skip.
    t.diagnostic(ruby.stderr);
    assert.fail(`ruby with active_support did not run: ${ruby.error?.message ?? ruby.stderr}`);
  }
  const expected = ruby.stdout.trimEnd().split('\n');
  assert.equal(expected.length, WORDS.length);
  const mismatches = WORDS.map((w, i) => [w, singularize(w), expected[i]]).filter(([, ours, theirs]) => ours !== theirs);
  assert.deepEqual(mismatches, []);
});
