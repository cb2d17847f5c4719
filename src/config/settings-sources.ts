import { readFileSync } from 'node:fs';
import { LineCounter, isMap, isScalar, parseDocument, type Node as YamlNode } from 'yaml';
import { RelayError, errorMessage } from '../errors';
import type { SettingSpec } from './settings-schema';

/**
 * Where each setting's value comes from, so that every message can say which env var, settings-file
 * key and line, or command-line flag to fix. Precedence: flag > env var > settings file > default.
 */
export type SettingSource =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly file: string; readonly line: number }
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'flag'; readonly flag: string }
  /** A secret read from the file another setting names (DATABASE_URL_FILE, KAFKA_SASL_PASSWORD_FILE). */
  | { readonly kind: 'secret-file'; readonly path: string; readonly via: string };

/** A value as text, before parsing, with its origin. */
export interface RawSetting {
  readonly text: string;
  readonly source: SettingSource;
}

/** A settings value given by a command-line flag (`--topics` sets topics.file). */
export interface FlagOverride {
  readonly flag: string;
  readonly value: string;
}

export type SettingsSchema = Readonly<Record<string, Readonly<Record<string, SettingSpec>>>>;

export interface SettingsFile {
  /** By dotted key (`relay.batchSize`). */
  readonly values: ReadonlyMap<string, RawSetting>;
  /** Unknown sections and keys, values that are not single values, each with file and line. */
  readonly problems: readonly string[];
}

/** Reads a YAML (or JSON) settings file: sections of keys, each key with its line. */
export function readSettingsFile(file: string, schema: SettingsSchema): SettingsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RelayError('CONFIG_INVALID', `cannot read settings file ${file}: ${errorMessage(err)}`, { cause: err, context: { file } });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `${file}${e.linePos?.[0] ? `:${e.linePos[0].line}` : ''}: not valid YAML/JSON: ${e.message.split('\n')[0]}`);
    throw new RelayError('CONFIG_INVALID', lines.join('\n'), { context: { file } });
  }
  const lineOf = (node: YamlNode | null | undefined): number => lineCounter.linePos(node?.range?.[0] ?? 0).line;
  const values = new Map<string, RawSetting>();
  const problems: string[] = [];
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return { values, problems };
  if (!isMap(root)) throw new RelayError('CONFIG_INVALID', `${file}: the settings file must be a map of sections (${Object.keys(schema).join(', ')})`, { context: { file } });
  for (const sectionPair of root.items) {
    const section = String(isScalar(sectionPair.key) ? sectionPair.key.value : sectionPair.key);
    const keys = schema[section];
    const sectionLine = lineOf(sectionPair.key as YamlNode);
    if (keys === undefined) {
      problems.push(`${file}:${sectionLine}: ${section}: unknown section (sections: ${Object.keys(schema).join(', ')})`);
      continue;
    }
    if (!isMap(sectionPair.value)) {
      problems.push(`${file}:${sectionLine}: ${section}: must be a map of settings (${Object.keys(keys).join(', ')})`);
      continue;
    }
    for (const pair of sectionPair.value.items) {
      const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
      const line = lineOf(pair.key as YamlNode);
      const spec = keys[key];
      if (spec === undefined) {
        problems.push(`${file}:${line}: ${section}.${key}: unknown setting (${section} has: ${Object.keys(keys).join(', ')})`);
        continue;
      }
      const text = valueText(pair.value as YamlNode | null, spec);
      if (text === undefined) {
        problems.push(`${file}:${line}: ${section}.${key} (env ${spec.env}): must be a single value, not a list or map`);
        continue;
      }
      values.set(`${section}.${key}`, { text, source: { kind: 'file', file, line } });
    }
  }
  return { values, problems };
}

/**
 * A scalar's text as written: a plain `1e3` or `0x10` stays that text (YAML would read numbers),
 * so the file is parsed by the same strict rules as env vars. kafka.librdkafka may be a map.
 */
function valueText(node: YamlNode | null, spec: SettingSpec): string | undefined {
  if (node === null) return '';
  if (isScalar(node)) {
    if (node.type === 'PLAIN') return node.value === null ? '' : (node.source ?? String(node.value));
    return String(node.value);
  }
  if (spec.rule.kind === 'json-object' && isMap(node)) return JSON.stringify(node.toJSON());
  return undefined;
}

/** Each key's winning raw value: flag, else env var, else settings file, else default. */
export function effectiveSettings(
  schema: SettingsSchema,
  env: NodeJS.ProcessEnv,
  file: ReadonlyMap<string, RawSetting> | undefined,
  flags: Readonly<Record<string, FlagOverride | undefined>>,
): Map<string, RawSetting> {
  const result = new Map<string, RawSetting>();
  for (const [section, keys] of Object.entries(schema)) {
    for (const [key, spec] of Object.entries(keys)) {
      const path = `${section}.${key}`;
      const flag = flags[path];
      const fromEnv = env[spec.env];
      if (flag !== undefined) result.set(path, { text: flag.value, source: { kind: 'flag', flag: flag.flag } });
      else if (fromEnv !== undefined) result.set(path, { text: fromEnv, source: { kind: 'env', name: spec.env } });
      else result.set(path, file?.get(path) ?? { text: String(spec.default), source: { kind: 'default' } });
    }
  }
  return result;
}

/** The start of a message about one setting: what to fix, and the other names of the same setting. */
export function where(key: string, spec: SettingSpec, source: SettingSource): string {
  switch (source.kind) {
    case 'env':
      return `${source.name} (${key})`;
    case 'file':
      return `${source.file}:${source.line}: ${key} (env ${spec.env})`;
    case 'flag':
      return `${source.flag} (${key}, env ${spec.env})`;
    case 'secret-file':
      return `${source.via}: the file ${source.path}`;
    case 'default':
      return `${key} (env ${spec.env}, default)`;
  }
}

/** A setting and its value as given, for messages about several settings; secrets show no value. */
export function shown(key: string, spec: SettingSpec, source: SettingSource, value: unknown): string {
  const text = spec.sensitive === true ? '(secret)' : JSON.stringify(value);
  switch (source.kind) {
    case 'env':
      return spec.sensitive === true ? source.name : `${source.name}=${text}`;
    case 'file':
      return `${key}: ${text} (${source.file}:${source.line}, env ${spec.env})`;
    case 'flag':
      return `${source.flag} ${text} (${key})`;
    case 'secret-file':
      return `${source.via}, the file ${source.path}`;
    case 'default':
      return `${spec.env} (${key}, default ${text})`;
  }
}
