import type { Logger } from 'pino';
import { jitteredMs } from '../domain/lock-budget';
import { errorMessage } from '../errors';

/**
 * Active slots (relay.activeSlots): of all relays of one outbox, at most that many claim; the others
 * stand by. A slot is a session-level advisory lock held on a connection of its own (postgres/
 * slot-sql.ts), so it goes with the relay: when the relay dies or its connection is cut, the server
 * releases the lock and a standby takes the slot at its next try.
 *
 * States: standby (no slot; every poll tries slots 0..n-1 in order) → active (holds slot k; every
 * poll pings the connection). Losing the connection, or a ping that does not answer, goes back to
 * standby at once: the server may already have given the slot to another relay, so this one must
 * not start another claim. Batches already in flight finish (their row locks are their own).
 * Standing by is healthy: readiness does not depend on it, and the standby's polls keep liveness.
 */

/** The connection a slot is held on (postgres/slot-session.ts). */
export interface SlotSession {
  /** Takes slot `slot` if no other session holds it, without waiting. */
  tryTake(slot: number): Promise<boolean>;
  /** Resolves when the server answered in time. */
  ping(): Promise<void>;
  /** Called once when the connection is lost. */
  onLost(handler: (err: Error) => void): void;
  /** Ends the session, releasing its slot. */
  close(): Promise<void>;
}

export interface ActiveSlotOptions {
  /** Slots to try (relay.activeSlots); 0 = no limit: always active, no connection. */
  readonly slots: number;
  /** Pause between polls, jittered by ± half. */
  readonly pollIntervalMs: number;
  /** In [0, 1), for the jitter. */
  readonly random: () => number;
}

export interface ActiveSlotEvents {
  /** The relay became active (holds `slot`) or stopped being active (undefined). */
  changed(slot: number | undefined): void;
  /** A poll of a standby finished (its liveness heartbeat). */
  standbyPolled(): void;
}

export class ActiveSlot {
  private session: SlotSession | undefined;
  private slot: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private stopped = false;
  private lastProblem = '';

  constructor(
    private readonly open: () => Promise<SlotSession>,
    private readonly options: ActiveSlotOptions,
    private readonly events: ActiveSlotEvents,
    private readonly logger: Logger,
  ) {}

  /** May this relay claim now? Always with no limit on active relays. */
  get active(): boolean {
    return this.options.slots === 0 || this.slot !== undefined;
  }

  /** The slot held, if any. */
  get heldSlot(): number | undefined {
    return this.slot;
  }

  /** Makes a first try (so a relay with a free slot claims from its first pass), then polls. */
  async start(): Promise<void> {
    if (this.options.slots === 0 || this.stopped || this.polling !== undefined) return;
    this.polling = this.poll();
    await this.polling;
    if (!this.active) this.logger.info({ slots: this.options.slots }, 'every active slot is taken: standing by');
  }

  /** Stops polling and ends the session (the slot is released). Idempotent, safe before start. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.polling;
    const session = this.session;
    this.session = undefined;
    this.setSlot(undefined);
    await session?.close();
  }

  private async poll(): Promise<void> {
    try {
      await this.pollOnce();
    } finally {
      if (!this.active) this.events.standbyPolled();
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.polling = this.poll();
    }, jitteredMs(this.options.pollIntervalMs, this.options.random()));
    this.timer.unref();
  }

  private async pollOnce(): Promise<void> {
    const session = this.session ?? (await this.connect());
    if (session === undefined || this.stopped) return;
    try {
      if (this.slot !== undefined) {
        await session.ping();
        return;
      }
      for (let slot = 0; slot < this.options.slots && !this.stopped; slot += 1) {
        if (await session.tryTake(slot)) {
          this.setSlot(slot);
          this.lastProblem = '';
          return;
        }
      }
    } catch (err) {
      this.lose(session, err);
    }
  }

  private async connect(): Promise<SlotSession | undefined> {
    try {
      const session = await this.open();
      session.onLost((err) => this.lose(session, err));
      this.session = session;
      this.lastProblem = '';
      return session;
    } catch (err) {
      this.report(`cannot open the slot connection; standing by: ${errorMessage(err)}`);
      return undefined;
    }
  }

  /** The session is gone or did not answer: stop claiming at once, and open a new one next poll. */
  private lose(session: SlotSession, err: unknown): void {
    if (this.session !== session) return;
    this.session = undefined;
    const held = this.slot;
    this.setSlot(undefined);
    void session.close();
    if (held !== undefined) this.logger.warn({ slot: held, err: { message: errorMessage(err) } }, 'slot connection lost: stopped claiming (the slot may be taken by another relay)');
    else this.report(`slot connection lost; standing by: ${errorMessage(err)}`);
  }

  private setSlot(slot: number | undefined): void {
    if (slot === this.slot) return;
    this.slot = slot;
    if (slot !== undefined) this.logger.info({ slot, slots: this.options.slots }, 'took an active slot: claiming');
    this.events.changed(slot);
  }

  /** Logs a standby's trouble once, not at every poll. */
  private report(problem: string): void {
    if (problem === this.lastProblem) return;
    this.lastProblem = problem;
    this.logger.warn(problem);
  }
}
