import { Client, type ClientConfig } from 'pg';
import { RelayError } from '../errors';
import { PING } from './session-sql';
import { TRY_SLOT } from './slot-sql';
import { prepared } from './statement';

/** How long a slot connection may take to answer a ping before it counts as lost. */
const PING_TIMEOUT_MS = 5_000;

/** The connection a relay holds its slot on (relay/active-slot.ts SlotSession). */
export class PgSlotSession {
  private lostHandler: ((err: Error) => void) | undefined;
  private closed = false;

  private constructor(
    private readonly client: Client,
    private readonly table: string,
  ) {
    const lost = (err: Error): void => {
      if (this.closed) return;
      this.closed = true;
      this.lostHandler?.(err);
    };
    client.on('error', lost);
    client.on('end', () => lost(new Error('the slot connection ended')));
  }

  /** Opens a connection of its own for the slot of `table` (the quoted, qualified outbox table). */
  static async open(config: ClientConfig, table: string): Promise<PgSlotSession> {
    const client = new Client(config);
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new RelayError('POSTGRES_UNAVAILABLE', `cannot open the slot connection: ${(err as Error).message}`, { cause: err, retriable: true });
    }
    return new PgSlotSession(client, table);
  }

  /** Called once when the connection is lost (error or end), not when it is closed by close(). */
  onLost(handler: (err: Error) => void): void {
    this.lostHandler = handler;
  }

  async tryTake(slot: number): Promise<boolean> {
    const result = await this.client.query<{ taken: boolean }>(prepared(TRY_SLOT, [this.table, slot]));
    return result.rows[0]?.taken === true;
  }

  /** Resolves when the server answered; rejects when it did not within a few seconds. */
  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the slot connection did not answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.client.query(prepared(PING)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the session, which releases its slot. */
  async close(): Promise<void> {
    this.closed = true;
    // A connection that stopped answering may never finish a clean end: do not wait for it long
    // (the server releases the slot when it notices the session is gone).
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, PING_TIMEOUT_MS)));
    await Promise.race([this.client.end().catch(() => undefined), gaveUp]);
    clearTimeout(timer);
  }
}
