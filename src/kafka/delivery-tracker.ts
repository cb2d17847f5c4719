import type { DeliveryReport, LibrdKafkaError } from 'node-rdkafka';
import type { RelayError } from '../errors';
import { messageError } from './kafka-errors';

/** Outcome of one message: null when the broker acknowledged it. */
export type DeliveryOutcome = RelayError | null;

/**
 * The delivery outcomes of one enqueueAll call: one slot per message, and a single promise that
 * settles once every slot is filled (a promise per message costs measurable time at high rates).
 */
export class BatchDeliveries {
  private readonly outcomes: DeliveryOutcome[];
  private remaining: number;
  private resolve: (outcomes: DeliveryOutcome[]) => void = () => undefined;
  readonly settled: Promise<DeliveryOutcome[]>;

  constructor(count: number) {
    this.outcomes = new Array<DeliveryOutcome>(count).fill(null);
    this.remaining = count;
    this.settled = new Promise((resolve) => (this.resolve = resolve));
    if (count === 0) this.resolve(this.outcomes);
  }

  settle(index: number, outcome: DeliveryOutcome): void {
    this.outcomes[index] = outcome;
    this.remaining -= 1;
    if (this.remaining === 0) this.resolve(this.outcomes);
  }

  /** Messages from `index` on were never queued: nothing will report them. */
  skipFrom(index: number): void {
    for (let i = index; i < this.outcomes.length; i++) this.settle(i, null);
  }
}

/** A queued message waiting for its delivery report (keyed by the opaque given to librdkafka). */
interface PendingDelivery {
  readonly batch: BatchDeliveries;
  readonly index: number;
  readonly topic: string;
}

/**
 * The messages librdkafka holds for us, each with the slot its delivery report fills. Reports
 * arrive only through the producer's poll(), so while anything is pending a fast poll runs, and it
 * stops once the last report is in.
 */
export class DeliveryTracker {
  private readonly pending = new Map<number, PendingDelivery>();
  private nextOpaque = 1;
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly poll: () => void,
    private readonly pollIntervalMs: number,
  ) {}

  /** Messages handed to librdkafka and not yet reported. */
  get size(): number {
    return this.pending.size;
  }

  /** True while the fast poll runs (messages are in flight). */
  get polling(): boolean {
    return this.pollTimer !== undefined;
  }

  /** The opaque to produce a message with; track() it once produce() accepted the message. */
  takeOpaque(): number {
    return this.nextOpaque++;
  }

  /** Reports are only delivered by poll(), never during produce(): tracking after produce is safe. */
  track(opaque: number, batch: BatchDeliveries, index: number, topic: string): void {
    this.pending.set(opaque, { batch, index, topic });
  }

  /** The producer's delivery-report handler. */
  onReport(err: LibrdKafkaError | null | undefined, report: DeliveryReport): void {
    const opaque = report.opaque as number;
    const p = this.pending.get(opaque);
    if (p === undefined) return;
    this.pending.delete(opaque);
    p.batch.settle(p.index, err ? messageError(err, report.topic, 'delivery') : null);
    if (this.pending.size === 0) this.stopPolling();
  }

  /** Settles every message still waiting with the error `failure` makes for its topic. */
  failAll(failure: (topic: string) => RelayError): void {
    for (const [opaque, p] of this.pending) {
      this.pending.delete(opaque);
      p.batch.settle(p.index, failure(p.topic));
    }
  }

  ensurePolling(): void {
    if (this.pollTimer !== undefined) return;
    this.pollTimer = setInterval(() => {
      try {
        this.poll();
      } catch {
        // poll() throws only when disconnected; pending deliveries are failed by the publisher's stop().
      }
    }, this.pollIntervalMs);
  }

  stopPolling(): void {
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}
