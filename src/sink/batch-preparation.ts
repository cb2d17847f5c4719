import type { SinkTopicConfig } from '../config/sink-types';
import { planMessage, PoisonMessageError, type InboxEvent, type MessagePlan, type PruneOp, type RecordOp, type Resolution } from './apply-plan';
import { planSegments, type Segment } from './apply-steps';
import { removeDuplicates } from './dedup';
import { readEnvelope, type SinkEvent } from './envelope';

/**
 * A partition batch from fetched messages to what one transaction applies, without I/O: reading
 * each value, setting poison messages aside, the gem's de-duplication, the per-message plans and
 * their set-based segments. Under `on_poison: stop` only the messages before the first poison
 * message are prepared (that message stops the partition).
 */

/** A message as fetched from Kafka. */
export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: Buffer | null;
  /** Kafka timestamp (ms), when the broker gave one. */
  readonly timestamp: number | undefined;
}

export interface PoisonMessage {
  readonly message: ConsumedMessage;
  readonly code: 'SINK_MESSAGE_INVALID' | 'SINK_MODEL_UNMAPPED' | 'SINK_APPLY_FAILED';
  readonly reason: string;
}

/** A message to apply, with its plan. `index` orders messages within the batch. */
export interface PlannedMessage {
  readonly index: number;
  readonly message: ConsumedMessage;
  readonly plan: MessagePlan;
}

export interface PreparedBatch {
  /** Messages to apply, in application order (after de-duplication). */
  readonly planned: readonly PlannedMessage[];
  readonly segments: readonly Segment[];
  readonly poison: readonly PoisonMessage[];
  /** Under `on_poison: stop`: the poison message where the partition stops (nothing from it on is applied). */
  readonly stopAt: PoisonMessage | undefined;
  readonly tombstones: number;
  /** Messages removed by de-duplication. */
  readonly duplicates: number;
}

export interface PreparationContext {
  readonly topic: SinkTopicConfig;
  readonly resolve: (name: string) => Resolution;
  readonly inbox: boolean;
  /** Now, for a missing updated_at in de-duplication (µs since the epoch). */
  readonly nowMicros: number;
}

export function prepareBatch(messages: readonly ConsumedMessage[], ctx: PreparationContext): PreparedBatch {
  const events = new Map<ConsumedMessage, readonly SinkEvent[] | undefined>();
  const poison: PoisonMessage[] = [];
  for (const message of messages) {
    const reading = readEnvelope(message.value);
    if (reading.kind === 'invalid') poison.push({ message, code: 'SINK_MESSAGE_INVALID', reason: reading.reason });
    else events.set(message, reading.kind === 'tombstone' ? undefined : reading.events);
  }
  // Planning may find more poison messages; the rare restart keeps de-duplication and sequence
  // numbers computed over exactly the messages that are applied.
  for (;;) {
    const stopAt = ctx.topic.onPoison === 'stop' ? firstByOffset(poison) : undefined;
    const bad = new Set(poison.map((p) => p.message));
    const candidates = messages.filter((m) => !bad.has(m) && (stopAt === undefined || m.offset < stopAt.message.offset));
    const { kept, removed } = removeDuplicates(candidates, (m) => events.get(m), ctx.nowMicros);
    const found = planAll(kept, events, ctx);
    if ('poison' in found) {
      poison.push(found.poison);
      continue;
    }
    const ops: RecordOp[] = found.planned.flatMap((p) => [...p.plan.ops]);
    const prunes: PruneOp[] = found.planned.flatMap((p) => [...p.plan.prunes]);
    return {
      planned: found.planned,
      segments: planSegments(ops, prunes),
      poison: stopAt === undefined ? poison : [],
      stopAt,
      tombstones: candidates.filter((m) => events.get(m) === undefined).length,
      duplicates: removed.length,
    };
  }
}

function planAll(
  kept: readonly ConsumedMessage[],
  events: ReadonlyMap<ConsumedMessage, readonly SinkEvent[] | undefined>,
  ctx: PreparationContext,
): { planned: PlannedMessage[] } | { poison: PoisonMessage } {
  let seq = 0;
  const planContext = {
    resolve: ctx.resolve,
    softDelete: ctx.topic.softDelete,
    strictMapping: ctx.topic.strictMapping,
    inbox: ctx.inbox,
    nextSeq: () => seq++,
  };
  const planned: PlannedMessage[] = [];
  for (const [index, message] of kept.entries()) {
    const list = events.get(message);
    if (list === undefined) continue;
    try {
      planned.push({ index, message, plan: planMessage(index, list, planContext) });
    } catch (err) {
      if (err instanceof PoisonMessageError) return { poison: { message, code: err.code, reason: err.message } };
      throw err;
    }
  }
  return { planned };
}

function firstByOffset(poison: readonly PoisonMessage[]): PoisonMessage | undefined {
  return poison.reduce<PoisonMessage | undefined>((first, p) => (first === undefined || p.message.offset < first.message.offset ? p : first), undefined);
}

/** The inbox rows of a batch's planned messages. */
export function inboxEvents(planned: readonly PlannedMessage[]): Array<{ message: ConsumedMessage; event: InboxEvent }> {
  return planned.flatMap((p) => p.plan.inbox.map((event) => ({ message: p.message, event })));
}
