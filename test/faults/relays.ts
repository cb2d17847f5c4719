import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { baseRelayEnv, cliPath } from '../helpers/relay-process';
import { sleep } from './time';

/** A relay exit the suite did not ask for (a start that failed while a service was down, or a crash). */
/** Exit code of a relay whose producer watchdog asked for a restart (src/main.ts STALLED_EXIT_CODE). */
export const WATCHDOG_EXIT_CODE = 75;

/** A crash: the relay exited on its own while running, not as a watchdog restart. */
export function isCrash(e: UnexpectedExit): boolean {
  return e.wasRunning && e.code !== WATCHDOG_EXIT_CODE;
}

export interface UnexpectedExit {
  readonly relay: number;
  readonly atMs: number;
  readonly code: number | null;
  readonly signal: string | null;
  /** True when the process had logged "relay running" (a crash), false for a failed start. */
  readonly wasRunning: boolean;
  readonly lastLines: string[];
}

const RESTART_BACKOFF_MS = [500, 1000, 2000, 4000];
const TAIL_LINES = 30;

/**
 * One relay process of the suite (`node build/src/cli/bin.js run --topics FILE`), supervised like an
 * orchestrator would: when it exits without being asked to, it is started again after a short
 * backoff (a relay whose dependencies are down at start exits non-zero by design). Its output goes to
 * a log file; the last lines are kept for evidence.
 */
export class SupervisedRelay {
  readonly name: string;
  readonly unexpectedExits: UnexpectedExit[] = [];
  starts = 0;
  private child: ChildProcess | undefined;
  private running = false;
  private frozen = false;
  private supervising = true;
  private expectingExit = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private failuresInARow = 0;
  private tail: string[] = [];
  private exited: Promise<void> = Promise.resolve();
  private readonly log: WriteStream;
  /** Exit code of the SIGTERM at the end of the run. */
  finalExit: { code: number | null; signal: string | null; elapsedMs: number } | undefined;

  /** The command line and the log line that says it runs: the relay's, or another command's (the sink). */
  private readonly role: { label: string; args: readonly string[]; running: string };

  constructor(
    readonly index: number,
    topicsFile: string,
    private readonly env: Record<string, string>,
    runTag: string,
    logDir: string,
    role?: { label: string; args: readonly string[]; running: string },
  ) {
    this.role = role ?? { label: 'relay', args: ['run', '--topics', topicsFile], running: '"relay running"' };
    this.name = `${runTag}-${this.role.label}-${index}`;
    this.log = createWriteStream(join(logDir, `${this.role.label}-${index}.log`), { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** True once the current process logged "relay running" and has not exited. */
  get isRunning(): boolean {
    return this.running && this.pid !== undefined;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  start(): void {
    this.starts += 1;
    this.running = false;
    this.expectingExit = false;
    this.log.write(`\n===== start #${this.starts} at ${new Date().toISOString()} =====\n`);
    const child = spawn(process.execPath, [cliPath(), ...this.role.args], {
      env: baseRelayEnv(this.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let partial = '';
    const onData = (chunk: Buffer): void => {
      this.log.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!this.running && line.includes(this.role.running)) {
          this.running = true;
          this.failuresInARow = 0;
        }
        this.tail.push(line);
      }
      if (this.tail.length > TAIL_LINES) this.tail = this.tail.slice(-TAIL_LINES);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
      this.onExit(child, code, signal);
      resolve();
    }));
  }

  private onExit(child: ChildProcess, code: number | null, signal: string | null): void {
    const wasRunning = this.running;
    this.running = false;
    this.frozen = false;
    this.log.write(`===== exit code=${code} signal=${signal} at ${new Date().toISOString()} =====\n`);
    if (this.child !== child || this.expectingExit || !this.supervising) return;
    this.unexpectedExits.push({ relay: this.index, atMs: Date.now(), code, signal, wasRunning, lastLines: [...this.tail] });
    const delay = RESTART_BACKOFF_MS[Math.min(this.failuresInARow, RESTART_BACKOFF_MS.length - 1)] as number;
    this.failuresInARow += 1;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.supervising) this.start();
    }, delay);
  }

  /** Resolves once the current process logged "relay running" (false after timeoutMs). */
  async waitRunning(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.isRunning) return true;
      await sleep(50);
    }
    return false;
  }

  /** kill -9: no shutdown at all; rows of batches in flight stay locked until the server notices. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (child === undefined || this.pid === undefined) return;
    this.expectingExit = true;
    child.kill('SIGKILL');
    await this.exited;
  }

  freeze(): void {
    if (this.pid === undefined) return;
    this.child?.kill('SIGSTOP');
    this.frozen = true;
  }

  thaw(): void {
    if (this.pid === undefined) return;
    this.child?.kill('SIGCONT');
    this.frozen = false;
  }

  /** SIGTERM and wait: the relay's graceful shutdown. Records the exit code; SIGKILL after timeoutMs. */
  async terminate(timeoutMs: number): Promise<void> {
    this.supervising = false;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    const child = this.child;
    if (child === undefined || this.pid === undefined) return;
    if (this.frozen) this.thaw();
    this.expectingExit = true;
    const started = Date.now();
    let code: number | null = null;
    let signal: string | null = null;
    child.once('exit', (c, s) => {
      code = c;
      signal = s;
    });
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    this.finalExit = { code, signal, elapsedMs: Date.now() - started };
  }

  /** Last resort on an error path: thaw and kill, no questions asked. */
  async destroy(): Promise<void> {
    this.supervising = false;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    if (this.pid !== undefined) {
      this.expectingExit = true;
      this.child?.kill('SIGCONT');
      this.child?.kill('SIGKILL');
      await this.exited;
    }
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }

  lastLines(): string[] {
    return [...this.tail];
  }

  /** Synchronous last resort for process exit (no await possible): never leave a relay behind. */
  killNow(): void {
    this.supervising = false;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    if (this.pid === undefined) return;
    this.child?.kill('SIGCONT');
    this.child?.kill('SIGKILL');
  }
}
