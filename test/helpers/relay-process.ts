import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root';
import { TEST_KAFKA_BROKERS } from './env';
import { usersTopicsYaml } from './topics-yaml';

/** The compiled CLI the tests run: the same entry point users run, as a child process. */
export function cliPath(): string {
  return join(packageRoot(), 'build', 'src', 'cli', 'bin.js');
}

/** Writes a topics YAML into a fresh temp folder and returns its path. */
export function writeTopicsFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dionysus-relay-test-'));
  const file = join(dir, 'topics.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** usersTopicsYaml written into a fresh temp folder: the topics file most tests use. */
export function usersTopicsFile(namespace: string, sql?: string, options?: Parameters<typeof usersTopicsYaml>[2]): string {
  return writeTopicsFile(usersTopicsYaml(namespace, sql, options));
}

export interface RelayProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  readonly exited: Promise<number | string>;
  /** Resolves when a log line contains `text`. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

export function baseRelayEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    KAFKA_BROKERS: TEST_KAFKA_BROKERS,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    HTTP_PORT: '0',
    RELAY_POLL_INTERVAL_MS: '50',
    ...extra,
  };
}

export function startRelay(args: readonly string[], env: Record<string, string>): RelayProcess {
  const child = spawn(process.execPath, [cliPath(), ...args], { env: baseRelayEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const l of [...listeners]) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve(code ?? signal ?? 'unknown');
      for (const l of [...listeners]) l();
    });
  });
  return {
    child,
    output: () => output,
    exited,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    waitForLog(text, timeoutMs = 30_000) {
      return new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (output.includes(text)) {
            cleanup();
            resolve();
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`relay exited before logging "${text}":\n${output}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`relay did not log "${text}" within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Runs `run --exit-when-idle` to completion; returns exit code and output. */
export async function runUntilIdle(
  topicsFile: string,
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<{ code: number | string; output: string }> {
  const relay = startRelay(['run', '--exit-when-idle', '--topics', topicsFile], env);
  const timer = setTimeout(() => relay.kill('SIGKILL'), timeoutMs);
  const code = await relay.exited;
  clearTimeout(timer);
  return { code, output: relay.output() };
}
