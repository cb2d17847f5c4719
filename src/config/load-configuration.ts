import { loadSettings, type Settings } from './settings';
import type { FlagOverride } from './settings-sources';
import { loadTopicsFile } from './topics-file';
import type { TopicsConfig } from './topics-types';

/** What the command line adds to the configuration (its flags win over env and file). */
export interface ConfigurationFlags {
  readonly configFile?: string | undefined;
  readonly topicsFile?: string | undefined;
  readonly logLevel?: string | undefined;
}

/** The settings the common flags set, with the flag's name for messages (`--topics` → topics.file). */
export function settingsOverrides(flags: Pick<ConfigurationFlags, 'topicsFile' | 'logLevel'>): Record<string, FlagOverride | undefined> {
  return {
    'topics.file': flags.topicsFile === undefined ? undefined : { flag: '--topics', value: flags.topicsFile },
    'log.level': flags.logLevel === undefined ? undefined : { flag: '--log-level', value: flags.logLevel },
  };
}

/** Settings and topics for any command: validated once (strict values, contradictions), then trusted. */
export function loadConfiguration(flags: ConfigurationFlags, env: NodeJS.ProcessEnv): { settings: Settings; topics: TopicsConfig } {
  const settings = loadSettings({ env, configFile: flags.configFile, overrides: settingsOverrides(flags) });
  return { settings, topics: loadTopicsFile(settings.topics.file) };
}
