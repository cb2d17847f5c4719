import { readFileSync } from 'node:fs';
import convict from 'convict';
import { parse as parseYaml } from 'yaml';
import { RelayError, errorMessage } from '../errors';
import { settingsSchema } from './settings-schema';

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
    pollIntervalMs: number;
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
  /** Values from CLI flags; they win over everything. */
  overrides?: Record<string, unknown>;
}

/** Builds, validates and returns the settings; throws CONFIG_INVALID naming the file and key. */
export function loadSettings(options: LoadSettingsOptions): Settings {
  const source = options.configFile ?? 'environment';
  const fileValues = options.configFile === undefined ? undefined : librdkafkaAsText(readSettingsFile(options.configFile));
  // convict's own types for a schema this size are too deep for tsc; the result is typed below.
  let config: convict.Config<unknown>;
  try {
    // Env values are parsed here (a malformed KAFKA_LIBRDKAFKA JSON throws), so this is inside try.
    config = convict(settingsSchema as convict.Schema<unknown>, { env: options.env, args: [] });
    // convict's load() re-imports the environment afterwards, so env vars win over the file.
    if (fileValues !== undefined) config.load(fileValues);
    for (const [key, value] of Object.entries(options.overrides ?? {})) {
      if (value !== undefined) config.set(key, value);
    }
    config.validate({ allowed: 'strict' });
  } catch (err) {
    throw new RelayError('CONFIG_INVALID', `invalid settings (${source}): ${errorMessage(err)}`, {
      cause: err,
      context: { file: source },
    });
  }
  const raw = config.getProperties() as unknown as Omit<Settings, 'kafka'> & {
    database: { urlFile: string };
    kafka: Omit<Settings['kafka'], 'librdkafka'> & { saslPasswordFile: string; librdkafka: string };
  };
  const settings = { ...raw, kafka: { ...raw.kafka, librdkafka: parseLibrdkafka(raw.kafka.librdkafka, source) } };
  return resolveSecretFiles(settings);
}

function readSettingsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RelayError('CONFIG_INVALID', `cannot read settings file ${file}: ${errorMessage(err)}`, {
      cause: err,
      context: { file },
    });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new RelayError('CONFIG_INVALID', `${file}: not valid YAML/JSON: ${errorMessage(err)}`, {
      cause: err,
      context: { file },
    });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new RelayError('CONFIG_INVALID', `${file}: the settings file must be a map of sections`, { context: { file } });
  }
  return value as Record<string, unknown>;
}

/** A settings file may give kafka.librdkafka as a map; convict holds it as JSON text. */
function librdkafkaAsText(values: Record<string, unknown>): Record<string, unknown> {
  const kafka = values['kafka'];
  if (typeof kafka !== 'object' || kafka === null) return values;
  const librdkafka = (kafka as Record<string, unknown>)['librdkafka'];
  if (librdkafka === undefined || typeof librdkafka === 'string') return values;
  return { ...values, kafka: { ...(kafka as Record<string, unknown>), librdkafka: JSON.stringify(librdkafka) } };
}

function parseLibrdkafka(text: string, source: string): Record<string, string | number | boolean> {
  const invalid = (reason: string): RelayError =>
    new RelayError('CONFIG_INVALID', `invalid settings (${source}): kafka.librdkafka (KAFKA_LIBRDKAFKA): ${reason}`, { context: { key: 'kafka.librdkafka' } });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(`not a JSON object: ${errorMessage(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('must be an object of librdkafka settings');
  for (const [key, v] of Object.entries(value)) {
    if (!['string', 'number', 'boolean'].includes(typeof v)) throw invalid(`${key} must be a string, number or boolean`);
  }
  return value as Record<string, string | number | boolean>;
}

function resolveSecretFiles(
  s: Settings & { database: { urlFile: string }; kafka: { saslPasswordFile: string } },
): Settings {
  const fromFile = (file: string, key: string): string => {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new RelayError('CONFIG_INVALID', `${key}: cannot read ${file}: ${errorMessage(err)}`, {
        cause: err,
        context: { key, file },
      });
    }
  };
  const { urlFile, ...database } = s.database;
  const { saslPasswordFile, ...kafka } = s.kafka;
  return {
    ...s,
    database: { ...database, url: urlFile ? fromFile(urlFile, 'database.urlFile') : database.url },
    kafka: { ...kafka, saslPassword: saslPasswordFile ? fromFile(saslPasswordFile, 'kafka.saslPasswordFile') : kafka.saslPassword },
  };
}

/** Lines for `--help`: each key, its env var, default and doc. Sensitive defaults are never shown. */
export function describeSettings(): string[] {
  const lines: string[] = [];
  for (const [section, keys] of Object.entries(settingsSchema)) {
    for (const [key, spec] of Object.entries(
      keys as Record<string, { env: string; doc: string; default: unknown; sensitive?: boolean }>,
    )) {
      const def = spec.sensitive ? '(secret)' : JSON.stringify(spec.default);
      lines.push(`  ${spec.env.padEnd(40)} ${section}.${key} = ${def}`);
      lines.push(`      ${spec.doc}`);
    }
  }
  return lines;
}
