import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root';
import { httpGet, waitFor } from '../integration/observability/support';
import type { RelayProcess } from './relay-process';

/**
 * A PostgreSQL and a Kafka of a test's own, which it stops and starts (scripts/services.sh with
 * another state folder and other ports; Kafka's controller listens on its port + 1), and /readyz
 * of a process waiting for them. The shared services are not touched.
 */

export type Dependency = 'postgres' | 'kafka';

export interface OwnServices {
  readonly databaseUrl: string;
  readonly brokers: string;
  run(action: 'start' | 'stop', service: Dependency | 'all'): Promise<void>;
}

export function ownServices(stateDir: string, pgPort: number, kafkaPort: number): OwnServices {
  const env = { ...process.env, DIONYSUS_SERVICES_DIR: stateDir, DIONYSUS_PG_PORT: String(pgPort), DIONYSUS_KAFKA_PORT: String(kafkaPort) };
  return {
    databaseUrl: `postgres://dionysus:dionysus@127.0.0.1:${pgPort}/dionysus_relay`,
    brokers: `127.0.0.1:${kafkaPort}`,
    run: (action, service) =>
      new Promise((resolve, reject) => {
        const child = spawn('bash', [join(packageRoot(), 'scripts', 'services.sh'), action, service], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`services.sh ${action} ${service} exited with ${code}:\n${output}`))));
      }),
  };
}

export interface ReadyBody {
  status: string;
  reason?: string;
  checks: Record<'config' | Dependency, { ok: boolean; detail: string; failedAttempts?: number }>;
}

/** /readyz's body once `accept` holds for it (503 while waiting). */
export async function readyzWhen(port: number, process: RelayProcess, what: string, accept: (status: number, body: ReadyBody) => boolean): Promise<ReadyBody> {
  let last = '';
  return waitFor(
    what,
    async () => {
      const answer = await httpGet(port, '/readyz');
      last = `${answer.status} ${answer.body}`;
      const body = JSON.parse(answer.body) as ReadyBody;
      return accept(answer.status, body) ? body : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 200, relay: process, describe: () => `${last}\n${process.output()}` },
  );
}
