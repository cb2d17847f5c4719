import { settingsSchema } from './settings-schema';

/** Where README.md holds the settings table (scripts/readme-settings.js rewrites what is between). */
export const SETTINGS_TABLE_BEGIN = '<!-- settings table: generated from src/config/settings-schema.ts by `npm run docs:settings` -->';
export const SETTINGS_TABLE_END = '<!-- end of settings table -->';

interface SettingSpec {
  readonly env: string;
  readonly doc: string;
  readonly default: unknown;
  readonly sensitive?: boolean;
}

function shown(spec: SettingSpec): string {
  if (spec.sensitive === true) return '(secret)';
  if (spec.default === '') return '""';
  return typeof spec.default === 'string' ? spec.default : JSON.stringify(spec.default);
}

/**
 * Every setting of the convict schema as a Markdown table: env var, default, meaning. (A settings
 * file's keys are printed next to the env vars by `--help`: describeSettings in settings.ts.)
 */
export function settingsTable(): string {
  const rows = ['| env var | default | meaning |', '|---|---|---|'];
  for (const keys of Object.values(settingsSchema)) {
    for (const spec of Object.values(keys as Record<string, SettingSpec>)) {
      rows.push(`| \`${spec.env}\` | \`${shown(spec)}\` | ${spec.doc.replace(/\|/g, '\\|')} |`);
    }
  }
  return rows.join('\n');
}

/** `readme` with the text between the markers replaced by the current table; throws without the markers. */
export function withSettingsTable(readme: string): string {
  const begin = readme.indexOf(SETTINGS_TABLE_BEGIN);
  const end = readme.indexOf(SETTINGS_TABLE_END);
  if (begin < 0 || end < begin) throw new Error(`README.md lacks the settings table markers (${SETTINGS_TABLE_BEGIN} ... ${SETTINGS_TABLE_END})`);
  return `${readme.slice(0, begin + SETTINGS_TABLE_BEGIN.length)}\n${settingsTable()}\n${readme.slice(end)}`;
}
