import { Client, type ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { LISTEN } from './session-sql';

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/** Why the listener wakes the loop: a notification arrived, or it has just started listening. */
export type WakeCause = 'notification' | 'listening';

/**
 * One dedicated connection per relay that LISTENs for the optional insert trigger
 * (sql/optional/notify_trigger.sql) and calls `onWake` for each notification. It must be a real
 * session: through a transaction-pooling PgBouncer LISTEN silently receives nothing. When the
 * connection drops it reconnects with backoff; meanwhile the loop's poll interval keeps working.
 */
export class NotifyListener {
  private client: Client | undefined;
  private stopped = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoffMs = RECONNECT_MIN_MS;

  constructor(
    private readonly config: ClientConfig,
    private readonly onWake: (cause: WakeCause) => void,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client(this.config);
    client.on('notification', () => this.onWake('notification'));
    client.on('error', (err) => {
      this.logger.warn({ err: { message: err.message } }, 'LISTEN connection lost; polling until it is back');
      this.scheduleReconnect(client);
    });
    client.on('end', () => this.scheduleReconnect(client));
    try {
      await client.connect();
      await client.query(LISTEN);
      this.client = client;
      this.backoffMs = RECONNECT_MIN_MS;
      // Rows committed while we were not listening are found by the next poll; wake once anyway.
      this.onWake('listening');
    } catch (err) {
      this.logger.warn({ err: { message: (err as Error).message } }, 'cannot LISTEN for outbox inserts; polling until it works');
      this.scheduleReconnect(client);
    }
  }

  private scheduleReconnect(client: Client): void {
    if (this.stopped || this.reconnectTimer !== undefined) return;
    if (this.client === client) this.client = undefined;
    client.end().catch(() => undefined);
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
  }
}
