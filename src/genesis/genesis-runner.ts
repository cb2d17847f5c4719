import type { IdType } from '../config/topics-types';
import type { OutgoingMessage } from '../domain/message-builder';
import { EncodingError } from '../domain/rails-json';
import { RelayError, errorMessage } from '../errors';
import type { DeliveryOutcome } from '../kafka/publisher';
import type { LoadResult } from '../postgres/serializer-loader';
import { WakeableSleep } from '../lifecycle/sleep';
import { decideRecord, genesisMessages, type RecordRules } from './genesis-messages';
import type { GenesisTarget } from './genesis-target';
import type { Pacer } from './pacing';

/** What the runner needs from the outside world (the real ones: IdSource, SerializerLoader, KafkaPublisher, GenesisRunStore). */
export interface GenesisPorts {
  readonly ids: { page(afterId: string | null, limit: number): Promise<string[]> };
  readonly loader: {
    load(topicName: string, modelName: string, ids: readonly string[]): Promise<LoadResult>;
    idType(topicName: string, modelName: string): IdType | undefined;
  };
  readonly publisher: {
    enqueueAll(messages: readonly OutgoingMessage[]): Promise<{ settled: Promise<DeliveryOutcome[]> }>;
    refreshPartitions(topics: Iterable<string>): Promise<void>;
    partitionCount(topic: string): number;
  };
  readonly store: { recordPage(runId: string, lastId: string, sent: number, skipped: number): Promise<void> };
}

/** A run's position, as recorded in the progress table. */
export interface GenesisPosition {
  readonly runId: string;
  readonly lastId: string | null;
  readonly sent: number;
  readonly skipped: number;
}

export interface GenesisRunnerOptions {
  readonly target: GenesisTarget;
  readonly rules: RecordRules;
  readonly pageSize: number;
  readonly pacer: Pacer;
  /** Called after each page is delivered and recorded. */
  readonly onPage: (position: GenesisPosition) => void;
}

/**
 * The genesis loop: page of ids → load through the serializer → decide and build → enqueue →
 * await every delivery report → record the page → wait for the pace. A page is recorded only
 * once Kafka acknowledged all of its messages, so a run stopped anywhere (even kill -9) resumes at
 * the first page not known to be delivered: at-least-once, never a gap. `stop()` ends the loop
 * after the page in flight; any error ends it at once (the page is not recorded).
 */
export class GenesisRunner {
  private readonly sleeper = new WakeableSleep();
  private stopping = false;

  constructor(
    private readonly ports: GenesisPorts,
    private readonly options: GenesisRunnerOptions,
    private position: GenesisPosition,
  ) {}

  /** Runs to the end ('done') or until stop() ('interrupted'). Throws on the first failure. */
  async run(): Promise<'done' | 'interrupted'> {
    const { pageSize, pacer } = this.options;
    let examined = 0;
    while (!this.stopping) {
      const ids = await this.ports.ids.page(this.position.lastId, pageSize);
      if (ids.length === 0) return 'done';
      const { sent, skipped } = await this.sendPage(ids);
      const lastId = ids[ids.length - 1] as string;
      await this.ports.store.recordPage(this.position.runId, lastId, sent, skipped);
      this.position = { ...this.position, lastId, sent: this.position.sent + sent, skipped: this.position.skipped + skipped };
      examined += ids.length;
      this.options.onPage(this.position);
      if (ids.length < pageSize) return 'done';
      await this.sleeper.sleep(pacer.delayMs(examined));
    }
    return 'interrupted';
  }

  /** Ends the run after the page in flight; a pacing wait ends at once. */
  stop(): void {
    this.stopping = true;
    this.sleeper.close();
  }

  private async sendPage(ids: readonly string[]): Promise<{ sent: number; skipped: number }> {
    const { target, rules } = this.options;
    const loaded = await this.ports.loader.load(target.topic.name, target.model.name, ids);
    const [firstFailure] = loaded.failures.values();
    if (firstFailure !== undefined) throw firstFailure;
    await this.ports.publisher.refreshPartitions(target.topicNames);
    const idType = this.ports.loader.idType(target.topic.name, target.model.name);
    const messages: OutgoingMessage[] = [];
    let sent = 0;
    for (const id of ids) {
      // A record the serializer no longer returns was deleted since the page was read (or its
      // statement filters it out): there is nothing current to send.
      const record = loaded.records.get(id);
      const decision = record === undefined ? undefined : decideRecord(record, rules);
      if (record === undefined || decision === undefined || decision.kind === 'skip') continue;
      try {
        messages.push(
          ...genesisMessages({
            modelName: target.model.name,
            resourceId: id,
            record,
            action: decision.action,
            topicName: target.topicName,
            genesisReplica: target.genesisReplica,
            partitionKeyAttribute: target.model.partitionKey,
            idType,
            partitionCount: (t) => this.ports.publisher.partitionCount(t),
          }),
        );
      } catch (err) {
        const code = err instanceof EncodingError ? 'ENCODING_FAILED' : 'RECORD_INVALID';
        throw new RelayError(code, `cannot build the message of ${target.model.name} ${id}: ${errorMessage(err)}`, { cause: err });
      }
      sent += 1;
    }
    await this.deliver(messages);
    return { sent, skipped: ids.length - sent };
  }

  /**
   * Enqueues the page and waits for every report. The broker's size limit applies to a whole
   * record batch, so messages refused as too large are sent once more one by one: only a truly
   * oversized one fails the run.
   */
  private async deliver(messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const outcomes = await (await this.ports.publisher.enqueueAll(messages)).settled;
    for (let i = 0; i < outcomes.length; i++) {
      let outcome = outcomes[i] ?? null;
      if (outcome?.code === 'MESSAGE_TOO_LARGE') {
        [outcome = null] = await (await this.ports.publisher.enqueueAll([messages[i] as OutgoingMessage])).settled;
      }
      if (outcome !== null) throw outcome;
    }
  }
}
