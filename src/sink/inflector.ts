/**
 * ActiveSupport's `singularize` with the default English inflections (ActiveSupport 6.1), which
 * the gem applies to the name of a to-many link: `"bookings": [1, 2]` becomes
 * `synced_booking_ids`. Only the default rules exist here (an application's own inflections are
 * configured per link in the sink file instead). A differential test compares this with Ruby.
 */

/** Rules in the order Rails tries them (the last defined first); the first that matches wins. */
const SINGULAR_RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // irregulars (defined last, so tried first)
  [/(z)ombies$/i, '$1ombie'],
  [/(z)ombie$/i, '$1ombie'],
  [/(m)oves$/i, '$1ove'],
  [/(m)ove$/i, '$1ove'],
  [/(s)exes$/i, '$1ex'],
  [/(s)ex$/i, '$1ex'],
  [/(c)hildren$/i, '$1hild'],
  [/(c)hild$/i, '$1hild'],
  [/(m)en$/i, '$1an'],
  [/(m)an$/i, '$1an'],
  [/(p)eople$/i, '$1erson'],
  [/(p)erson$/i, '$1erson'],
  // regular rules, latest first
  [/(database)s$/i, '$1'],
  [/(quiz)zes$/i, '$1'],
  [/(matr)ices$/i, '$1ix'],
  [/(vert|ind)ices$/i, '$1ex'],
  [/^(ox)en/i, '$1'],
  [/(alias|status)(es)?$/i, '$1'],
  [/(octop|vir)(us|i)$/i, '$1us'],
  [/^(a)x[ie]s$/i, '$1xis'],
  [/(cris|test)(is|es)$/i, '$1is'],
  [/(shoe)s$/i, '$1'],
  [/(o)es$/i, '$1'],
  [/(bus)(es)?$/i, '$1'],
  [/^(m|l)ice$/i, '$1ouse'],
  [/(x|ch|ss|sh)es$/i, '$1'],
  [/(m)ovies$/i, '$1ovie'],
  [/(s)eries$/i, '$1eries'],
  [/([^aeiouy]|qu)ies$/i, '$1y'],
  [/([lr])ves$/i, '$1f'],
  [/(tive)s$/i, '$1'],
  [/(hive)s$/i, '$1'],
  [/([^f])ves$/i, '$1fe'],
  [/(^analy)(sis|ses)$/i, '$1sis'],
  [/((a)naly|(b)a|(d)iagno|(p)arenthe|(p)rogno|(s)ynop|(t)he)(sis|ses)$/i, '$1sis'],
  [/([ti])a$/i, '$1um'],
  [/(n)ews$/i, '$1ews'],
  [/(ss)$/i, '$1'],
  [/s$/i, ''],
];

const UNCOUNTABLE = ['equipment', 'information', 'rice', 'money', 'species', 'series', 'fish', 'sheep', 'jeans', 'police'];
const UNCOUNTABLE_AT_END = new RegExp(`\\b(?:${UNCOUNTABLE.join('|')})$`, 'i');

export function singularize(word: string): string {
  if (word === '' || UNCOUNTABLE_AT_END.test(word)) return word;
  for (const [rule, replacement] of SINGULAR_RULES) {
    if (rule.test(word)) return word.replace(rule, replacement);
  }
  return word;
}
