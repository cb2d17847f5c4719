import { parseDuration } from '../domain/duration';
import { validateRetryPolicy } from '../domain/retry-schedule';
import { RelayError, errorMessage } from '../errors';
import { loadSettings, type Settings } from './settings';
import { loadTopicsFile } from './topics-file';
import type { TopicsConfig } from './topics-types';

/** What the command line adds to the configuration (its flags win over env and file). */
export interface ConfigurationFlags {
  readonly configFile?: string | undefined;
  readonly topicsFile?: string | undefined;
  readonly logLevel?: string | undefined;
}

/** Settings and topics for any command: validated once, then trusted. */
export function loadConfiguration(flags: ConfigurationFlags, env: NodeJS.ProcessEnv): { settings: Settings; topics: TopicsConfig } {
  const settings = loadSettings({
    env,
    configFile: flags.configFile,
    overrides: { 'topics.file': flags.topicsFile, 'log.level': flags.logLevel },
  });
  const retryProblems = validateRetryPolicy(settings.retry);
  if (retryProblems.length > 0) {
    throw new RelayError('CONFIG_INVALID', retryProblems.map((p) => `retry: ${p}`).join('\n'));
  }
  for (const key of ['olderThan', 'interval'] as const) {
    const text = settings.retention[key];
    if (text === '') continue;
    try {
      parseDuration(text);
    } catch (err) {
      throw new RelayError('CONFIG_INVALID', `retention.${key}: ${errorMessage(err)}`);
    }
  }
  return { settings, topics: loadTopicsFile(settings.topics.file) };
}
