import { Pool } from 'pg';
import { survivePostgresRestarts } from './time';

/**
 * The application of the replicas test: writers that each commit, in one transaction, a few advisory
 * locks of their own (as an application's transactions take locks), an update of a few items and
 * their outbox rows. A transaction that fails is counted, not retried: the test wants none.
 */

export interface AppWriterConfig {
  readonly url: string;
  readonly schema: string;
  readonly topic: string;
  readonly items: number;
  /** Items (and outbox rows) per transaction. */
  readonly rowsPerTransaction: number;
  /** Advisory locks each transaction takes besides its row locks. */
  readonly locksPerTransaction: number;
  /** Pause between transactions, in ms. */
  readonly pauseMs: number;
}

export class AppWriter {
  committed = 0;
  rowsWritten = 0;
  readonly failures: string[] = [];
  private readonly pool: Pool;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    readonly id: number,
    private readonly config: AppWriterConfig,
  ) {
    this.pool = new Pool({ connectionString: config.url, max: 1, options: `-c search_path=${config.schema},public`, application_name: `replicas-writer-${id}` });
    survivePostgresRestarts(this.pool);
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    await this.pool.end();
  }

  private async loop(): Promise<void> {
    let n = 0;
    while (!this.stopped) {
      n += 1;
      const ids = Array.from({ length: this.config.rowsPerTransaction }, (_, i) => 1 + ((this.id * 7919 + n * 104_729 + i * 31) % this.config.items)).sort((a, b) => a - b);
      const client = await this.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT pg_advisory_xact_lock(424242, (${this.id} * 100000 + g)::int) FROM generate_series(1, $1::int) g`, [this.config.locksPerTransaction]);
        await client.query('UPDATE items SET version = version + 1 WHERE id = ANY($1::bigint[])', [ids]);
        await client.query(
          `INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, created_at, updated_at)
           SELECT 'Item', id::text, 'item_updated', $2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC' FROM unnest($1::bigint[]) AS id`,
          [ids, this.config.topic],
        );
        await client.query('COMMIT');
        this.committed += 1;
        this.rowsWritten += ids.length;
      } catch (err) {
        this.failures.push((err as Error).message);
        await client.query('ROLLBACK').catch(() => undefined);
      } finally {
        client.release();
      }
      await new Promise((resolve) => setTimeout(resolve, this.config.pauseMs));
    }
  }
}
