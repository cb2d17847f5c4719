import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RelayEvents } from '../relay/relay-events';

/** The file name the dionysus-rb worker touches after every pass (compat doc §6). */
export function compatHealthFileName(host: string): string {
  return `__dionysus_outbox_worker__running__${host}`;
}

export interface CompatHealthFileOptions {
  /** `/tmp` for the gem's probes; a temp dir in tests. */
  readonly dir: string;
  /** os.hostname() unless given. */
  readonly hostname?: string;
}

/**
 * Drop-in for the Ruby worker's health signal, so existing probes (`find /tmp/__dionysus… -mmin`)
 * keep working when the relay replaces the worker: the file's mtime is refreshed after every loop
 * pass and the file is removed on shutdown. Touches are asynchronous and never overlap; a failure
 * is logged once per streak and never reaches the loop.
 */
export class CompatHealthFile implements Pick<RelayEvents, 'passFinished'> {
  readonly path: string;
  private touching: Promise<void> | undefined;
  private touchAgain = false;
  private failing = false;
  private stopping: Promise<void> | undefined;

  constructor(
    options: CompatHealthFileOptions,
    private readonly logger: Logger,
  ) {
    this.path = join(options.dir, compatHealthFileName(options.hostname ?? hostname()));
  }

  passFinished(): void {
    if (this.stopping !== undefined) return;
    if (this.touching !== undefined) {
      // A pass finished while the previous touch runs: one more touch after it covers both.
      this.touchAgain = true;
      return;
    }
    this.touching = this.touchUntilCurrent().finally(() => {
      this.touching = undefined;
    });
  }

  /** Resolves when no touch is in flight (tests use it to read the file's state). */
  async settled(): Promise<void> {
    await this.touching;
  }

  /** Removes the file (after a touch in flight). Idempotent; safe before any pass. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.touchAgain = false;
      await this.touching;
      await fs
        .rm(this.path, { force: true })
        .catch((err: unknown) => this.logger.warn({ err, path: this.path }, 'cannot remove the compatibility health file'));
    })();
    return this.stopping;
  }

  private async touchUntilCurrent(): Promise<void> {
    do {
      this.touchAgain = false;
      await this.touch();
    } while (this.touchAgain && this.stopping === undefined);
  }

  private async touch(): Promise<void> {
    const now = new Date();
    try {
      try {
        await fs.utimes(this.path, now, now);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await fs.writeFile(this.path, '');
      }
      if (this.failing) this.logger.info({ path: this.path }, 'compatibility health file is updated again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.logger.warn({ err, path: this.path }, 'cannot touch the compatibility health file');
      this.failing = true;
    }
  }
}
