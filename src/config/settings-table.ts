import { settingsSchema, type SettingSpec } from './settings-schema';
import { describeRule } from './setting-values';

/**
 * The settings tables of the documents, generated from the convict schema (scripts/readme-settings.js
 * rewrites what is between the markers; test/unit/docs/readme.test.ts fails while they disagree):
 * README.md lists each env var with the first sentence of its doc, docs/settings.md the whole
 * reference (key, accepted values, the whole doc).
 */
export const SETTINGS_TABLE_BEGIN = '<!-- settings table: generated from src/config/settings-schema.ts by `npm run docs:settings` -->';
export const SETTINGS_TABLE_END = '<!-- end of settings table -->';

function shown(spec: SettingSpec): string {
  if (spec.sensitive === true) return '(secret)';
  if (spec.default === '') return '""';
  return typeof spec.default === 'string' ? spec.default : JSON.stringify(spec.default);
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** The first sentence of a doc: up to a full stop followed by a capital, a digit-free word start or a backtick. */
export function firstSentence(doc: string): string {
  const end = /\.\s+(?=[A-Z`/_])/.exec(doc);
  return end === null ? doc : doc.slice(0, end.index + 1);
}

function specs(): Array<[string, SettingSpec]> {
  return Object.entries(settingsSchema).flatMap(([section, keys]) =>
    Object.entries(keys).map(([key, spec]): [string, SettingSpec] => [`${section}.${key}`, spec]),
  );
}

/** README.md's table: env var, default, what it is for. */
export function settingsTable(): string {
  const rows = ['| env var | default | meaning |', '|---|---|---|'];
  for (const [, spec] of specs()) rows.push(`| \`${spec.env}\` | \`${shown(spec)}\` | ${cell(firstSentence(spec.doc))} |`);
  return rows.join('\n');
}

/** docs/settings.md's table: env var, settings-file key, default, accepted values, the whole doc. */
export function settingsReference(): string {
  const rows = ['| env var | settings-file key | default | accepted | meaning |', '|---|---|---|---|---|'];
  for (const [key, spec] of specs()) {
    rows.push(`| \`${spec.env}\` | \`${key}\` | \`${shown(spec)}\` | ${cell(describeRule(spec.rule))} | ${cell(spec.doc)} |`);
  }
  return rows.join('\n');
}

/** `document` with the text between the markers replaced by `table`; throws without the markers. */
export function withSettingsTable(document: string, table: string = settingsTable()): string {
  const begin = document.indexOf(SETTINGS_TABLE_BEGIN);
  const end = document.indexOf(SETTINGS_TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`the document lacks the settings table markers (${SETTINGS_TABLE_BEGIN} ... ${SETTINGS_TABLE_END})`);
  return `${document.slice(0, begin + SETTINGS_TABLE_BEGIN.length)}\n${table}\n${document.slice(end)}`;
}
