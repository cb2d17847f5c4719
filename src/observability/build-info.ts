import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { librdkafkaVersion } from 'node-rdkafka';
import { packageRoot } from '../package-root';

/** What dionysus_relay_build_info (and the sink's) labels: which relay, Node.js and librdkafka run. */
export interface BuildInfo {
  readonly version: string;
  readonly node: string;
  readonly librdkafka: string;
}

/** Versions for dionysus_relay_build_info. */
export function readBuildInfo(): BuildInfo {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  return {
    version: typeof manifest.version === 'string' ? manifest.version : 'unknown',
    node: process.version,
    librdkafka: librdkafkaVersion,
  };
}
