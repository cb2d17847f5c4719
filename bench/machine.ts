import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Pool } from 'pg';
import { packageRoot } from '../src/package-root';

/** What the figures were measured on. */
export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly postgres: string;
  readonly postgresSettings: Record<string, string>;
  readonly kafka: string;
  readonly librdkafka: string;
  readonly nodeRdkafka: string;
  readonly pg: string;
}

export async function describeMachine(pool: Pool): Promise<MachineInfo> {
  const version = String((await pool.query('SHOW server_version')).rows[0].server_version);
  const settings: Record<string, string> = {};
  for (const name of ['shared_buffers', 'synchronous_commit', 'fsync', 'wal_level', 'max_wal_size', 'checkpoint_timeout', 'autovacuum']) {
    settings[name] = String((await pool.query(`SHOW ${name}`)).rows[0][name]);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const rdkafka = require('node-rdkafka') as { librdkafkaVersion: string };
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: readText('/proc/sys/kernel/osrelease'),
    node: process.version,
    postgres: version,
    postgresSettings: settings,
    kafka: kafkaVersion(),
    librdkafka: rdkafka.librdkafkaVersion,
    nodeRdkafka: packageVersion('node-rdkafka'),
    pg: packageVersion('pg'),
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The broker's version as scripts/services.sh installs it (services/kafka/pom.xml). */
function kafkaVersion(): string {
  const pom = readText(join(packageRoot(), 'services', 'kafka', 'pom.xml'));
  return /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1] ?? 'unknown';
}

/**
 * The commit the relay under test was built from, and whether src/ had uncommitted changes: of the
 * checkout that holds `cli` when one is given (a candidate build in another worktree), otherwise
 * of this one.
 */
export function relayRevision(cli: string | undefined): { commit: string; srcDirty: boolean; cli: string } {
  const cwd = cli === undefined ? packageRoot() : dirname(resolve(cli));
  const git = (...args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  return {
    commit: git('rev-parse', '--short', 'HEAD') || 'unknown',
    srcDirty: git('status', '--porcelain', '--', ':/src') !== '',
    cli: cli ?? 'build/src/cli/bin.js (copied when the run started)',
  };
}
