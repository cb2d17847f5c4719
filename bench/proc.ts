import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

/**
 * CPU and memory of other processes, read from /proc (Linux only). CPU is in seconds; a process's
 * `cutime`/`cstime` hold the CPU of its children that exited and were reaped, so the postmaster's
 * totals plus its live children give all of Postgres, including backends that came and went.
 */
let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime, seconds. */
  readonly cpu: number;
  /** cutime + cstime (reaped children), seconds. */
  readonly childrenCpu: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces; everything after the last ')' is fixed-format.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const num = (i: number): number => Number(fields[i - 3]);
  const hz = ticksPerSecond();
  return { pid, ppid: num(4), cpu: (num(14) + num(15)) / hz, childrenCpu: (num(16) + num(17)) / hz };
}

/** utime + stime of one process in seconds, or undefined once it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  return readStat(pid)?.cpu;
}

/** VmHWM (peak RSS) and VmRSS in MiB, or undefined once the process is gone. */
export function processMemoryMiB(pid: number): { peakRss: number; rss: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { peakRss: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Total CPU seconds of a process tree root and its direct children (live and reaped). */
export function treeCpuSeconds(rootPid: number): number {
  const root = readStat(rootPid);
  if (root === undefined) return NaN;
  let total = root.cpu + root.childrenCpu;
  for (const pid of allPids()) {
    const stat = readStat(pid);
    if (stat !== undefined && stat.ppid === rootPid) total += stat.cpu;
  }
  return total;
}

/** The postmaster: the parent of the backend serving `backendPid`. */
export function postmasterPid(backendPid: number): number | undefined {
  return readStat(backendPid)?.ppid;
}

/** The Kafka broker's JVM: its pid file from scripts/services.sh, else a scan of command lines. */
export function brokerPid(): number | undefined {
  const stateDir = process.env['DIONYSUS_SERVICES_DIR'] ?? '/var/tmp/dionysus-relay';
  const pidFile = `${stateDir}/kafka/kafka.pid`;
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    if (Number.isInteger(pid) && readStat(pid) !== undefined) return pid;
  }
  for (const pid of allPids()) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka.Kafka')) return pid;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/**
 * CPU seconds used by Postgres, the broker and this process between `start()` and `stop()`, and
 * by the whole machine (all cores, /proc/stat), so scenarios can tell how much CPU went to
 * processes that are not part of the benchmark (other work on a shared machine) and how much the
 * hypervisor stole.
 */
export interface CpuSplit {
  readonly postgres: number;
  readonly broker: number;
  readonly harness: number;
  readonly machineBusy: number;
  readonly steal: number;
  readonly wallSeconds: number;
}

/** Busy (user, nice, system, irq, softirq) and steal seconds of the whole machine since boot. */
export function machineCpuSeconds(): { busy: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const hz = ticksPerSecond();
  const at = (i: number): number => f[i] ?? 0;
  return { busy: (at(0) + at(1) + at(2) + at(5) + at(6)) / hz, steal: at(7) / hz };
}

export class CpuMeter {
  private startValues: Reading | undefined;

  constructor(
    private readonly pgRoot: number | undefined,
    private readonly broker: number | undefined,
  ) {}

  start(): void {
    this.startValues = this.read();
  }

  stop(): CpuSplit {
    const end = this.read();
    const start = this.startValues ?? end;
    return {
      postgres: end.pg - start.pg,
      broker: end.broker - start.broker,
      harness: end.harness - start.harness,
      machineBusy: end.busy - start.busy,
      steal: end.steal - start.steal,
      wallSeconds: (end.at - start.at) / 1000,
    };
  }

  private read(): Reading {
    const usage = process.cpuUsage();
    const machine = machineCpuSeconds();
    return {
      pg: this.pgRoot === undefined ? NaN : treeCpuSeconds(this.pgRoot),
      broker: this.broker === undefined ? NaN : (processCpuSeconds(this.broker) ?? NaN),
      harness: (usage.user + usage.system) / 1e6,
      busy: machine.busy,
      steal: machine.steal,
      at: Date.now(),
    };
  }
}

interface Reading {
  pg: number;
  broker: number;
  harness: number;
  busy: number;
  steal: number;
  at: number;
}

/** The split rounded for the result file, with what no known process accounts for. */
export function roundedSplit(split: CpuSplit, knownOtherSeconds: number): CpuSplit & { unattributed: number } {
  const r = (v: number): number => Math.round(v * 100) / 100;
  return {
    postgres: r(split.postgres),
    broker: r(split.broker),
    harness: r(split.harness),
    machineBusy: r(split.machineBusy),
    steal: r(split.steal),
    wallSeconds: r(split.wallSeconds),
    unattributed: r(split.machineBusy - split.postgres - split.broker - split.harness - knownOtherSeconds),
  };
}

export type MeasuredCpu = ReturnType<typeof roundedSplit>;
