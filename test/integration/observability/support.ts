import { createServer, connect, type Server, type Socket } from 'node:net';

// Helpers of the observability integration tests: a free port, /metrics parsing, polling with a
// deadline, and a TCP proxy whose outage the test controls.

/** A port nobody listens on right now: bind port 0, read it, close (HTTP_PORT=0 disables the server). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address !== 'object') throw new Error('no port assigned');
  return address.port;
}

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

export async function httpGet(port: number, path: string): Promise<HttpAnswer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** Text exposition → samples, keyed by `name{label="value",...}` with labels sorted. */
export type Samples = Map<string, number>;

export function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null) throw new Error(`unparseable metrics line: ${line}`);
    const [, name, labelText, value] = match;
    const labels = [...(labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`);
    samples.set(seriesKey(name as string, labels), Number(value === 'Nan' ? 'NaN' : value));
  }
  return samples;
}

function seriesKey(name: string, labels: string[]): string {
  return labels.length === 0 ? name : `${name}{${[...labels].sort().join(',')}}`;
}

/** The value of `name` with exactly `labels`, or undefined when the series is absent. */
export function sample(samples: Samples, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.get(seriesKey(name, Object.entries(labels).map(([k, v]) => `${k}="${v}"`)));
}

/** Names of every series of `name` (any labels). */
export function seriesOf(samples: Samples, name: string): string[] {
  return [...samples.keys()].filter((k) => k === name || k.startsWith(`${name}{`));
}

export async function scrape(port: number): Promise<Samples> {
  const answer = await httpGet(port, '/metrics');
  if (answer.status !== 200) throw new Error(`/metrics answered ${answer.status}: ${answer.body}`);
  return parseMetrics(answer.body);
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What was last seen, for the timeout message. */
  describe?: () => string;
  /** A relay process whose exit ends the wait at once. */
  relay?: { child: { exitCode: number | null; signalCode: string | null } };
}

/**
 * Calls `probe` every `intervalMs` until it returns a value other than undefined, and returns it;
 * throws after `timeoutMs` with `describe()` (what was last seen) in the message, or at once when
 * the given relay process has exited.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    const child = options.relay?.child;
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
      // No point waiting for a process that is gone: fail now, with its output.
      throw new Error(`relay exited (${child.exitCode ?? child.signalCode}) while waiting for ${what}; ${options.describe?.() ?? ''}`);
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const seen = options.describe?.() ?? (lastError === undefined ? '' : String(lastError));
      throw new Error(`timed out waiting for ${what}${seen === '' ? '' : `; last seen: ${seen}`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}

/**
 * A TCP proxy from 127.0.0.1:<port> to a target, for simulating a database outage without
 * touching the shared server: `cut()` stops listening and destroys every proxied connection (new
 * connections are refused), `restore()` listens again on the same port.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = 0): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address !== 'object') throw new Error('proxy has no port');
    this.port = address.port;
    this.server = server;
  }

  /** Refuse new connections and break the open ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // Stop accepting first, so no connection slips in between; close() resolves once the open
    // ones are destroyed.
    const closed = server === undefined ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}
