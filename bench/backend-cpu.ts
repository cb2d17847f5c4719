import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import type { Pool } from 'pg';
import { BENCH_DATABASE_URL } from './fixture';
import { processCpuSeconds } from './proc';

/**
 * CPU of the PostgreSQL backends that serve one client process, so a scenario can say how much
 * database CPU the relay (or the generator) cost even when other work shares the server. The
 * client's TCP sockets are found through /proc/<pid>/fd and /proc/net/tcp, their local ports
 * matched against pg_stat_activity.client_port, and each backend's utime+stime sampled; the
 * highest reading per backend counts (a backend's CPU only grows). Sampling misses at most one
 * interval of a backend that exits first.
 */
export class BackendCpuTracker {
  private readonly latest = new Map<number, { first: number; last: number }>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly pool: Pool,
    private readonly clientPid: () => number | undefined,
    /** Count only CPU used after a backend was first seen (a window of a long-running client). */
    private readonly fromFirstSight = false,
    // The server's port: the backends' sockets are matched on it (a second PostgreSQL has another).
    private readonly serverPort = Number(new URL(BENCH_DATABASE_URL).port || 5432),
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
    void this.sample();
  }

  /** Stops sampling; CPU seconds of every backend seen, since it was first seen (or since birth). */
  async stop(): Promise<number> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.sample();
    let total = 0;
    for (const v of this.latest.values()) total += v.last - v.first;
    return total;
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const pid = this.clientPid();
      if (pid === undefined) return;
      const ports = clientPorts(pid, this.serverPort);
      if (ports.length > 0) {
        const { rows } = await this.pool.query('SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])', [ports]);
        for (const r of rows as Array<{ pid: number }>) {
          const cpu = processCpuSeconds(r.pid);
          if (cpu === undefined) continue;
          const known = this.latest.get(r.pid);
          // A backend first seen mid-run already did some work for this client (connection set-up
          // at most, since sampling starts before the client connects), so it counts from zero.
          if (known === undefined) this.latest.set(r.pid, { first: this.fromFirstSight ? cpu : 0, last: cpu });
          else known.last = Math.max(known.last, cpu);
        }
      }
      // Backends seen before keep being read even once the client let go of them.
      for (const [backend, v] of this.latest) {
        const cpu = processCpuSeconds(backend);
        if (cpu !== undefined) v.last = Math.max(v.last, cpu);
      }
    } catch {
      // best effort: a failed sample is skipped
    } finally {
      this.busy = false;
    }
  }
}

/** Local ports of `pid`'s TCP connections to `remotePort` (IPv4 and IPv6). */
export function clientPorts(pid: number, remotePort: number): number[] {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1] as string);
      } catch {
        // fd closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9] as string)) continue;
      const local = Number.parseInt((f[1] ?? '').split(':')[1] ?? '', 16);
      const remote = Number.parseInt((f[2] ?? '').split(':')[1] ?? '', 16);
      if (remote === remotePort) ports.push(local);
    }
  }
  return ports;
}
