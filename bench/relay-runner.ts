import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { packageRoot } from '../src/package-root';
import { processCpuSeconds, processMemoryMiB } from './proc';

/**
 * Runs the real CLI (`node build/src/cli/bin.js run ...`) as a child process, the way operators
 * run it, with the probe preloaded for exact CPU and peak RSS at exit, and /proc sampled while it
 * runs (peak RSS cross-check, CPU timeline).
 */
export interface RelaySpawnOptions {
  readonly label: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workDir: string;
  /** Write a V8 CPU profile (`--cpu-prof`) into this folder. */
  readonly profileDir?: string | undefined;
  /** SIGKILL after this long (a wedged relay must not hang the benchmark). */
  readonly timeoutMs: number;
  /** The compiled CLI to run (default build/src/cli/bin.js). */
  readonly cli?: string | undefined;
  /** Serve /metrics on this port (HTTP_PORT) and scrape the batch phase histograms while running. */
  readonly metricsPort?: number | undefined;
}

/** Per-phase totals from the relay's own batch_phase_duration_seconds histogram (last scrape). */
export interface PhaseTimes {
  readonly batches: number;
  /** Mean ms per batch of each phase (claim, load, produce, mark). */
  readonly meanMs: Readonly<Record<string, number>>;
  readonly meanBatchSize: number;
}

export interface RelayRunResult {
  readonly label: string;
  readonly exitCode: number | string;
  readonly spawnedAtMs: number;
  readonly exitedAtMs: number;
  readonly wallSeconds: number;
  /** user + system CPU of the relay process (all threads), from getrusage at exit. */
  readonly cpuSeconds: number;
  readonly userCpuSeconds: number;
  readonly systemCpuSeconds: number;
  /** Peak RSS (getrusage maxrss) in MiB; falls back to the last sampled VmHWM. */
  readonly peakRssMiB: number;
  readonly sampledPeakRssMiB: number;
  /** Tail of stdout and stderr (warnings and errors; LOG_LEVEL is warn by default). */
  readonly outputTail: string;
  readonly phases?: PhaseTimes | undefined;
}

export interface RelayChild {
  readonly pid: number;
  readonly done: Promise<RelayRunResult>;
  output(): string;
  /**
   * The process's CPU seconds at wall time `ms`, interpolated between the /proc samples taken
   * every 200 ms (clock ticks of 10 ms); NaN outside the sampled time. For the CPU of a window of
   * the run, such as the drain's published_at span (start-up and exit excluded).
   */
  cpuAt(ms: number): number;
  /** SIGTERM: graceful drain of batches in flight, then exit. */
  stop(): void;
}

const OUTPUT_KEEP_CHARS = 20_000;

/** Relay children still running, so an interrupted benchmark can stop them (see run.ts). */
const running = new Set<{ kill(signal: NodeJS.Signals): boolean }>();

/** SIGTERM to every relay child still running. */
export function stopAllRelays(): void {
  for (const child of running) child.kill('SIGTERM');
}
const SAMPLE_MS = 200;
const SCRAPE_MS = 1_000;

export function cliPath(): string {
  return join(packageRoot(), 'build', 'src', 'cli', 'bin.js');
}

/**
 * A private copy of the compiled relay (build/src, sql/, package.json, node_modules linked), taken
 * when the run starts: on a shared checkout someone may recompile build/ mid-run, and every
 * scenario must run the same code. Returns the copy's CLI path.
 */
export function snapshotRelay(workDir: string): string {
  const root = packageRoot();
  const dir = join(workDir, 'relay');
  mkdirSync(join(dir, 'build'), { recursive: true });
  cpSync(join(root, 'build', 'src'), join(dir, 'build', 'src'), { recursive: true });
  cpSync(join(root, 'sql'), join(dir, 'sql'), { recursive: true });
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return join(dir, 'build', 'src', 'cli', 'bin.js');
}

function probePath(): string {
  return join(packageRoot(), 'build', 'bench', 'relay-probe.js');
}

export function spawnRelay(options: RelaySpawnOptions): RelayChild {
  const probeFile = join(options.workDir, `probe-${options.label}-${Date.now()}-${Math.floor(Math.random() * 1e6)}.json`);
  const nodeArgs = ['-r', probePath()];
  // BENCH_PROFILE_ALL_DIR profiles every relay child (the live ones too), for diagnosis only.
  const profileDir = options.profileDir ?? process.env['BENCH_PROFILE_ALL_DIR'];
  if (profileDir !== undefined && profileDir !== '') nodeArgs.push('--cpu-prof', '--cpu-prof-dir', profileDir);
  const spawnedAtMs = Date.now();
  const child = spawn(process.execPath, [...nodeArgs, options.cli ?? cliPath(), ...options.args], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      ...options.env,
      ...(options.metricsPort !== undefined ? { HTTP_PORT: String(options.metricsPort), HTTP_HOST: '127.0.0.1' } : {}),
      BENCH_PROBE_FILE: probeFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  const keep = (chunk: Buffer): void => {
    output += chunk.toString();
    if (output.length > OUTPUT_KEEP_CHARS * 2) output = output.slice(-OUTPUT_KEEP_CHARS);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const pid = child.pid ?? -1;
  let sampledPeak = 0;
  let lastCpu = 0;
  const cpuTimeline: Array<readonly [number, number]> = [[spawnedAtMs, 0]];
  const sampler = setInterval(() => {
    const mem = processMemoryMiB(pid);
    if (mem !== undefined) sampledPeak = Math.max(sampledPeak, mem.peakRss);
    const cpu = processCpuSeconds(pid);
    if (cpu !== undefined) {
      lastCpu = cpu;
      cpuTimeline.push([Date.now(), cpu]);
    }
  }, SAMPLE_MS);
  let phases: PhaseTimes | undefined;
  const scraper =
    options.metricsPort === undefined
      ? undefined
      : setInterval(() => {
          void scrapePhases(options.metricsPort as number).then((p) => (phases = p ?? phases));
        }, SCRAPE_MS);
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  const done = new Promise<RelayRunResult>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      const exitedAtMs = Date.now();
      clearInterval(sampler);
      if (scraper !== undefined) clearInterval(scraper);
      clearTimeout(killer);
      const probe = readProbe(probeFile);
      // The exact CPU at exit closes the timeline (the last sample may be up to 200 ms older).
      if (probe !== undefined) cpuTimeline.push([exitedAtMs, probe.userCpuSeconds + probe.systemCpuSeconds]);
      resolve({
        label: options.label,
        exitCode: code ?? signal ?? 'unknown',
        spawnedAtMs,
        exitedAtMs,
        wallSeconds: (exitedAtMs - spawnedAtMs) / 1000,
        cpuSeconds: probe ? probe.userCpuSeconds + probe.systemCpuSeconds : lastCpu,
        userCpuSeconds: probe?.userCpuSeconds ?? NaN,
        systemCpuSeconds: probe?.systemCpuSeconds ?? NaN,
        peakRssMiB: probe?.maxRssMiB ?? sampledPeak,
        sampledPeakRssMiB: sampledPeak,
        outputTail: output.slice(-4000),
        phases,
      });
    });
  });
  return { pid, done, output: () => output, stop: () => void child.kill('SIGTERM'), cpuAt: (ms) => interpolate(cpuTimeline, ms) };
}

/** Linear interpolation of `[ms, value]` points (ascending) at `ms`; NaN outside them. */
function interpolate(points: ReadonlyArray<readonly [number, number]>, ms: number): number {
  for (let i = 1; i < points.length; i++) {
    const [t1, v1] = points[i] as readonly [number, number];
    if (t1 < ms) continue;
    const [t0, v0] = points[i - 1] as readonly [number, number];
    return t1 === t0 ? v1 : v0 + ((v1 - v0) * (ms - t0)) / (t1 - t0);
  }
  return NaN;
}

interface Probe {
  userCpuSeconds: number;
  systemCpuSeconds: number;
  maxRssMiB: number;
}

function readProbe(file: string): Probe | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Probe;
  } catch {
    return undefined;
  } finally {
    rmSync(file, { force: true });
  }
}

/** Resolves once the relay's output contains `text` (e.g. "relay running"), or rejects. */
export function waitForOutput(child: RelayChild, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (child.output().includes(text)) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(timer);
        reject(new Error(`relay did not print "${text}" within ${timeoutMs} ms:\n${child.output().slice(-3000)}`));
      }
    }, 20);
    void child.done.then(() => {
      if (!child.output().includes(text)) {
        clearInterval(timer);
        reject(new Error(`relay exited before printing "${text}":\n${child.output().slice(-3000)}`));
      }
    });
  });
}

/** A free TCP port on 127.0.0.1 for a relay's /metrics. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function scrapePhases(port: number): Promise<PhaseTimes | undefined> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path: '/metrics', timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(parsePhases(body)));
      res.on('error', () => resolve(undefined));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

function parsePhases(text: string): PhaseTimes | undefined {
  const sums = new Map<string, number>();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/batch_phase_duration_seconds_(sum|count)\{phase="(\w+)"\} ([0-9.e+-]+)/g)) {
    (m[1] === 'sum' ? sums : counts).set(m[2] as string, Number(m[3]));
  }
  if (counts.size === 0) return undefined;
  const sizeSum = Number(/batch_size_sum(?:\{[^}]*\})? ([0-9.e+-]+)/.exec(text)?.[1] ?? NaN);
  const sizeCount = Number(/batch_size_count(?:\{[^}]*\})? ([0-9.e+-]+)/.exec(text)?.[1] ?? NaN);
  const meanMs: Record<string, number> = {};
  for (const [phase, count] of counts) meanMs[phase] = count === 0 ? 0 : Math.round(((sums.get(phase) ?? 0) / count) * 10_000) / 10;
  return { batches: counts.get('claim') ?? 0, meanMs, meanBatchSize: Math.round(sizeSum / sizeCount) };
}
