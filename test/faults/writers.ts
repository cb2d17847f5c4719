import { Pool, type PoolClient } from 'pg';
import { MODELS, type ModelSpec } from './fixture';
import type { Rng } from './rng';
import { sleep, survivePostgresRestarts } from './time';

/** One committed write as the writer saw it: the resource and the version its transaction wrote. */
export interface CommittedWrite {
  readonly token: string;
  readonly model: string;
  readonly resourceId: number;
  readonly version: number;
}

export interface WriterStats {
  readonly writer: number;
  committed: number;
  /** Transactions that failed before COMMIT was sent: rolled back, retried. */
  failedBeforeCommit: number;
  /** COMMIT failed (connection lost): outcome unknown until checked by token. */
  ambiguousLanded: number;
  ambiguousNotLanded: number;
  lastError: string | undefined;
}

interface WriterConfig {
  readonly url: string;
  readonly schema: string;
  readonly topicOf: ReadonlyMap<string, string>;
  readonly resourcesPerModel: number;
  readonly writesPerSecond: number;
}

const RESOLVE_DEADLINE_MS = 90_000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;

/**
 * An application writer: each write increments one resource's version and inserts its outbox row in
 * the same transaction, plus a write_log row keyed by a unique token (the application's own table;
 * the outbox has no free column). When a transaction fails, the writer reconnects and looks the token
 * up: a COMMIT that failed with a lost connection may still have committed, and only the database can
 * say. Writes that did not land are retried with a new token, as an application retries its request.
 */
export class Writer {
  readonly stats: WriterStats;
  readonly writes: CommittedWrite[] = [];
  private readonly pool: Pool;
  private stopRequested = false;
  private running: Promise<void> | undefined;
  private seq = 0;

  constructor(
    readonly id: number,
    private readonly config: WriterConfig,
    private readonly rng: Rng,
  ) {
    this.stats = { writer: id, committed: 0, failedBeforeCommit: 0, ambiguousLanded: 0, ambiguousNotLanded: 0, lastError: undefined };
    this.pool = new Pool({
      connectionString: config.url,
      max: 1,
      connectionTimeoutMillis: 5000,
      options: `-c search_path=${config.schema},public -c statement_timeout=15000`,
      application_name: `faults-writer-${id}`,
    });
    // PostgreSQL restarts kill connections; the pool drops them and the next write reconnects.
    survivePostgresRestarts(this.pool);
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Stops after the write in progress (a write whose outcome is unknown is resolved first). */
  async stop(): Promise<void> {
    this.stopRequested = true;
    await this.running;
    await this.pool.end().catch(() => undefined);
  }

  private async loop(): Promise<void> {
    const intervalMs = 1000 / this.config.writesPerSecond;
    let next = Date.now();
    while (!this.stopRequested) {
      const model = this.rng.pick(MODELS);
      const resourceId = this.rng.int(1, this.config.resourcesPerModel);
      await this.writeUntilLanded(model, resourceId);
      next += intervalMs;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      // After an outage, carry on at the normal pace instead of bursting to catch up.
      else if (wait < -1000) next = Date.now();
    }
  }

  private async writeUntilLanded(model: ModelSpec, resourceId: number): Promise<void> {
    let backoffMs = RETRY_MIN_MS;
    while (!this.stopRequested) {
      const token = `w${this.id}-${++this.seq}`;
      const outcome = await this.tryWrite(model, resourceId, token);
      if (outcome.ok) {
        this.record(token, model, resourceId, outcome.version);
        return;
      }
      this.stats.lastError = outcome.error;
      if (outcome.phase !== 'commit') {
        this.stats.failedBeforeCommit += 1;
      } else {
        const version = await this.landedVersion(token);
        if (version !== undefined) {
          this.stats.ambiguousLanded += 1;
          this.record(token, model, resourceId, version);
          return;
        }
        this.stats.ambiguousNotLanded += 1;
      }
      await sleep(backoffMs);
      backoffMs = Math.min(backoffMs * 2, RETRY_MAX_MS);
    }
  }

  private record(token: string, model: ModelSpec, resourceId: number, version: number): void {
    this.writes.push({ token, model: model.model, resourceId, version });
    this.stats.committed += 1;
  }

  private async tryWrite(
    model: ModelSpec,
    resourceId: number,
    token: string,
  ): Promise<{ ok: true; version: number } | { ok: false; phase: 'connect' | 'transaction' | 'commit'; error: string }> {
    let client: PoolClient | undefined;
    let phase: 'connect' | 'transaction' | 'commit' = 'connect';
    try {
      client = await this.pool.connect();
      phase = 'transaction';
      await client.query('BEGIN');
      const updated = await client.query<{ version: number }>(
        `UPDATE ${model.table} SET version = version + 1, updated_at = clock_timestamp() WHERE id = $1 RETURNING version`,
        [resourceId],
      );
      const version = updated.rows[0]?.version;
      if (version === undefined) throw new Error(`${model.model} ${resourceId} does not exist`);
      await client.query(
        `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
         VALUES ($1, $2, $3, $4, clock_timestamp() AT TIME ZONE 'UTC', clock_timestamp() AT TIME ZONE 'UTC')`,
        [model.model, String(resourceId), `${model.singular}_updated`, this.config.topicOf.get(model.model)],
      );
      await client.query('INSERT INTO write_log (token, model, resource_id, version) VALUES ($1, $2, $3, $4)', [token, model.model, resourceId, version]);
      phase = 'commit';
      await client.query('COMMIT');
      client.release();
      return { ok: true, version };
    } catch (err) {
      // Destroy the connection: whatever the transaction's state, the server rolls back what did not commit.
      client?.release(err instanceof Error ? err : new Error(String(err)));
      return { ok: false, phase, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** The version written by `token`'s transaction if it committed, undefined if it did not. */
  private async landedVersion(token: string): Promise<number | undefined> {
    const deadline = Date.now() + RESOLVE_DEADLINE_MS;
    for (;;) {
      try {
        const result = await this.pool.query<{ version: number }>('SELECT version FROM write_log WHERE token = $1', [token]);
        return result.rows[0]?.version;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new Error(`writer ${this.id}: cannot tell whether write ${token} committed: ${(err as Error).message}`, { cause: err });
        }
        await sleep(250);
      }
    }
  }
}
