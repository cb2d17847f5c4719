import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import convict from 'convict';
import { RelayError, errorMessage } from '../errors';
import { brokerListProblem, databaseUrlProblem } from './connection-targets';
import { contradictions, type SettingsWithSecretFiles } from './settings-checks';
import { settingsSchema } from './settings-schema';
import { effectiveSettings, readSettingsFile, shown, where, type FlagOverride, type RawSetting, type SettingSource } from './settings-sources';
import { describeRule, parseSettingValue, type ValueRule } from './setting-values';

/** Validated service settings; every component receives only its slice. */
export interface Settings {
  database: {
    url: string;
    schema: string;
    table: string;
    poolSize: number;
    statementTimeoutMs: number;
    idleInTransactionTimeoutMs: number;
    sslCaFile: string;
  };
  kafka: {
    brokers: string;
    clientId: string;
    securityProtocol: 'plaintext' | 'ssl' | 'sasl_plaintext' | 'sasl_ssl';
    saslMechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
    saslUsername: string;
    saslPassword: string;
    sslCaFile: string;
    librdkafka: Record<string, string | number | boolean>;
    metadataRefreshMs: number;
    deliveryTimeoutMs: number;
    stallRestartMs: number;
  };
  topics: { file: string };
  sink: { file: string; maxBatchMessages: number; concurrency: number; pollWaitMs: number; errorBackoffMs: number; shutdownGraceMs: number };
  log: { level: string; format: 'auto' | 'json' | 'pretty' };
  relay: {
    batchSize: number;
    maxInflightBatches: number;
    activeSlots: number;
    lockTableShare: number;
    pollIntervalMs: number;
    startRetryMaxMs: number;
    migrateAtStart: boolean;
    listenNotify: boolean;
    onPublish: 'mark' | 'delete';
    poisonMaxCrashes: number;
    publishDelayMs: number;
    shutdownGraceMs: number;
    errorBackoffMs: number;
  };
  retry: { baseSeconds: number; maxDelaySeconds: number; jitterRatio: number; maxAttempts: number };
  retention: { olderThan: string; interval: string; batchSize: number; pauseMs: number };
  http: { port: number; host: string };
  health: { livenessTimeoutMs: number; compatFile: boolean; compatFileDir: string; readinessIntervalMs: number };
  metrics: { backlogIntervalMs: number };
}

export interface LoadSettingsOptions {
  env: NodeJS.ProcessEnv;
  /** Optional YAML or JSON settings file (`--config`). Env vars win over it. */
  configFile?: string | undefined;
  /** Values from command-line flags, by settings key (`topics.file`); they win over everything. */
  overrides?: Readonly<Record<string, FlagOverride | undefined>>;
}

/** Settings whose values are paths of files the relay reads (checked readable before any connection). */
const FILE_SETTINGS = ['database.sslCaFile', 'kafka.sslCaFile'] as const;

/**
 * Builds, validates and returns the settings. Every value is parsed strictly from its text; then
 * the secret files are read, URLs and paths checked, and contradictions between settings looked
 * for. Throws one CONFIG_INVALID listing every problem, each naming its env var (and the settings
 * file and line, or the flag, that gave the value).
 */
export function loadSettings(options: LoadSettingsOptions): Settings {
  const file = options.configFile === undefined ? undefined : readSettingsFile(options.configFile, settingsSchema);
  const raw = effectiveSettings(settingsSchema, options.env, file?.values, options.overrides ?? {});
  const problems = [...(file?.problems ?? [])];
  const values = new Map<string, string | number | boolean>();
  for (const [key, setting] of raw) {
    const spec = specOf(key);
    const parsed = parseSettingValue(spec.rule, setting.text);
    if (parsed.ok) values.set(key, parsed.value);
    else problems.push(`${where(key, spec, setting.source)}: ${spec.sensitive === true ? 'the value' : JSON.stringify(setting.text.trim())} ${parsed.reason}`);
  }
  const librdkafkaSetting = raw.get('kafka.librdkafka') as RawSetting;
  const librdkafka = parseLibrdkafka(String(values.get('kafka.librdkafka') ?? '{}'), where('kafka.librdkafka', specOf('kafka.librdkafka'), librdkafkaSetting.source), problems);
  if (problems.length > 0) throw invalid(problems);

  const sources = new Map([...raw].map(([key, setting]) => [key, setting.source]));
  const given = new Set([...sources].filter(([, source]) => source.kind !== 'default').map(([key]) => key));
  const settings = resolveSecretFiles(toSettings(values, librdkafka), sources);
  problems.push(...connectionProblems(settings, sources));
  const show = (key: string): string => shown(key, specOf(key), sources.get(key) as SettingSource, valueAt(settings, key));
  const name = (key: string): string => where(key, specOf(key), sources.get(key) as SettingSource);
  problems.push(...contradictions({ settings, show, name, given: (key) => given.has(key) }));
  if (problems.length > 0) throw invalid(problems);
  return { ...settings, database: without(settings.database, 'urlFile'), kafka: without(settings.kafka, 'saslPasswordFile') };
}

/** `value` without `key` (the paths of secret files, which no component needs once they are read). */
function without<T extends object, K extends keyof T>(value: T, key: K): Omit<T, K> {
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== key)) as Omit<T, K>;
}

function invalid(problems: readonly string[]): RelayError {
  return new RelayError('CONFIG_INVALID', problems.join('\n'), { context: { problems } });
}

function specOf(key: string): (typeof settingsSchema)[string][string] {
  const [section = '', name = ''] = key.split('.');
  const spec = settingsSchema[section]?.[name];
  if (spec === undefined) throw new Error(`no setting ${key}`);
  return spec;
}

function valueAt(settings: SettingsWithSecretFiles, key: string): unknown {
  const [section = '', name = ''] = key.split('.');
  return (settings as unknown as Record<string, Record<string, unknown>>)[section]?.[name];
}

/** The parsed values into convict (defaults, structure, a last type check) and out as Settings. */
function toSettings(values: ReadonlyMap<string, string | number | boolean>, librdkafka: Settings['kafka']['librdkafka']): SettingsWithSecretFiles {
  // convict's own types for a schema this size are too deep for tsc; the result is typed below.
  const config = convict(convictSchema() as convict.Schema<unknown>, { env: {}, args: [] });
  for (const [key, value] of values) config.set(key, value);
  config.validate({ allowed: 'strict' });
  const props = config.getProperties() as unknown as SettingsWithSecretFiles & { kafka: { librdkafka: unknown } };
  return { ...props, kafka: { ...props.kafka, librdkafka } };
}

/** The convict schema: each key's doc, default, env var, and the type its parsed value has. */
function convictSchema(): Record<string, Record<string, { doc: string; format: unknown; default: unknown; env: string; sensitive: boolean }>> {
  return Object.fromEntries(
    Object.entries(settingsSchema).map(([section, keys]) => [
      section,
      Object.fromEntries(
        Object.entries(keys).map(([key, spec]) => [
          key,
          { doc: spec.doc, format: convictFormat(spec.rule), default: spec.default, env: spec.env, sensitive: spec.sensitive === true },
        ]),
      ),
    ]),
  );
}

function convictFormat(rule: ValueRule): unknown {
  switch (rule.kind) {
    case 'integer':
      return 'int';
    case 'decimal':
      return Number;
    case 'boolean':
      return Boolean;
    case 'choice':
      return rule.values;
    default:
      return String;
  }
}

function parseLibrdkafka(text: string, at: string, problems: string[]): Settings['kafka']['librdkafka'] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    problems.push(`${at}: not a JSON object: ${errorMessage(err)}`);
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`${at}: must be an object of librdkafka settings`);
    return {};
  }
  for (const [key, v] of Object.entries(value)) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) problems.push(`${at}: ${key} must be a string, number or boolean`);
  }
  return value as Settings['kafka']['librdkafka'];
}

/** Reads DATABASE_URL_FILE and KAFKA_SASL_PASSWORD_FILE; the values read take those files as their source. */
function resolveSecretFiles(s: SettingsWithSecretFiles, sources: Map<string, SettingSource>): SettingsWithSecretFiles {
  const fromFile = (fileKey: string, valueKey: string, path: string): string => {
    const via = where(fileKey, specOf(fileKey), sources.get(fileKey) as SettingSource);
    let text: string;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch (err) {
      throw new RelayError('CONFIG_INVALID', `${via}: cannot read ${path}: ${errorMessage(err)}`, { cause: err, context: { key: fileKey, file: path } });
    }
    sources.set(valueKey, { kind: 'secret-file', path, via });
    return text;
  };
  const url = s.database.urlFile === '' ? s.database.url : fromFile('database.urlFile', 'database.url', s.database.urlFile);
  const password = s.kafka.saslPasswordFile === '' ? s.kafka.saslPassword : fromFile('kafka.saslPasswordFile', 'kafka.saslPassword', s.kafka.saslPasswordFile);
  return { ...s, database: { ...s.database, url }, kafka: { ...s.kafka, saslPassword: password } };
}

/** The database URL and the broker list parse; the CA files the connections need are readable. */
function connectionProblems(s: SettingsWithSecretFiles, sources: ReadonlyMap<string, SettingSource>): string[] {
  const at = (key: string): string => where(key, specOf(key), sources.get(key) as SettingSource);
  const problems: string[] = [];
  const urlProblem = databaseUrlProblem(s.database.url);
  if (urlProblem !== undefined) problems.push(`${at('database.url')}: ${urlProblem}`);
  const brokersProblem = brokerListProblem(s.kafka.brokers);
  if (brokersProblem !== undefined) problems.push(`${at('kafka.brokers')}: ${JSON.stringify(s.kafka.brokers)} ${brokersProblem}`);
  for (const key of FILE_SETTINGS) {
    const path = String(valueAt(s, key));
    if (path === '') continue;
    try {
      accessSync(path, fsConstants.R_OK);
    } catch (err) {
      problems.push(`${at(key)}: cannot read ${path}: ${errorMessage(err)}`);
    }
  }
  return problems;
}

/** Lines for `--help`: each key, its env var, default, accepted values and doc. Sensitive defaults are never shown. */
export function describeSettings(): string[] {
  const lines: string[] = [];
  for (const [section, keys] of Object.entries(settingsSchema)) {
    for (const [key, spec] of Object.entries(keys)) {
      const def = spec.sensitive === true ? '(secret)' : JSON.stringify(spec.default);
      lines.push(`  ${spec.env.padEnd(40)} ${section}.${key} = ${def}   [${describeRule(spec.rule)}]`);
      lines.push(`      ${spec.doc}`);
    }
  }
  return lines;
}
