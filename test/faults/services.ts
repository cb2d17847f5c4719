import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/package-root';

export type Service = 'postgres' | 'kafka';

/**
 * Stops and starts the shared PostgreSQL and Kafka through scripts/services.sh (or the script named
 * by FAULTS_SERVICES_SCRIPT, which must take the same arguments: `<start|stop|restart|status> <service>`).
 */
export class Services {
  readonly script: string;
  /** Lines printed by the script, kept for the report when a step fails. */
  readonly transcript: string[] = [];

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.script = env['FAULTS_SERVICES_SCRIPT'] ?? join(packageRoot(), 'scripts', 'services.sh');
  }

  async run(action: 'start' | 'stop' | 'restart', service: Service | 'all'): Promise<void> {
    const { code, output } = await this.exec([action, service]);
    if (code !== 0) throw new Error(`${this.script} ${action} ${service} exited with ${code}:\n${output}`);
  }

  /** True when every requested service is up (the script's `status` exits 0). */
  async healthy(service: Service | 'all' = 'all'): Promise<boolean> {
    return (await this.exec(['status', service])).code === 0;
  }

  private exec(args: string[]): Promise<{ code: number; output: string }> {
    return new Promise((resolve) => {
      const child = spawn('bash', [this.script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('close', (code) => {
        const lines = output.split('\n').filter((l) => l.trim() !== '');
        this.transcript.push(`$ services.sh ${args.join(' ')}`, ...lines.map((l) => `  ${l}`));
        resolve({ code: code ?? 1, output });
      });
    });
  }
}
