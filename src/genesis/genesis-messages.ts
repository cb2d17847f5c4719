import type { IdType } from '../config/topics-types';
import { planRow, type OutgoingMessage } from '../domain/message-builder';
import { recordAttribute, type RecordData } from '../domain/record-shape';
import { eventName } from '../domain/message-key';
import type { ClaimedRow } from '../domain/outbox-row';
import { RelayError } from '../errors';

/**
 * What a genesis does with each serialized record, pure: filter it, choose its event, build its
 * messages with the relay's own message building (so key, partition and envelope cannot differ).
 */
export interface RecordRules {
  readonly modelName: string;
  /** Inclusive updated_at window in epoch ms (null = open end). */
  readonly fromMs: number | null;
  readonly toMs: number | null;
  readonly visibleOnly: boolean;
  readonly softDeleteColumn: string;
  /** The id query applied the window already (a record without updated_at is then accepted). */
  readonly windowInQuery: boolean;
  /** The relation ids are paged from, for messages. */
  readonly relation: string;
}

export type RecordDecision =
  | { readonly kind: 'send'; readonly action: 'updated' | 'destroyed' }
  | { readonly kind: 'skip'; readonly reason: 'outside-window' | 'soft-deleted' };

const UPDATED_AT = 'updated_at';

/**
 * The record has the last word on filters: its updated_at must lie in the window, and a non-null
 * soft-delete attribute makes it `_destroyed` (or skipped with --visible-only), as the gem's
 * genesis job decides from the loaded model. A record without the soft-delete attribute is not
 * soft-deletable and is always `_updated`.
 */
export function decideRecord(record: RecordData, rules: RecordRules): RecordDecision {
  if (rules.fromMs !== null || rules.toMs !== null) {
    const raw = recordAttribute(record, UPDATED_AT);
    const at = typeof raw === 'string' ? Date.parse(raw) : NaN;
    if (Number.isNaN(at)) {
      if (!rules.windowInQuery) {
        throw new RelayError(
          'CONFIG_INVALID',
          `--from/--to filter on updated_at, but neither ${rules.relation} has an updated_at column nor does the serializer of ${rules.modelName} return one`,
        );
      }
    } else if ((rules.fromMs !== null && at < rules.fromMs) || (rules.toMs !== null && at > rules.toMs)) {
      return { kind: 'skip', reason: 'outside-window' };
    }
  }
  const softDeleteValue = recordAttribute(record, rules.softDeleteColumn);
  const softDeleted = softDeleteValue !== undefined && softDeleteValue !== null;
  if (softDeleted && rules.visibleOnly) return { kind: 'skip', reason: 'soft-deleted' };
  return { kind: 'send', action: softDeleted ? 'destroyed' : 'updated' };
}

export interface GenesisMessageInput {
  readonly modelName: string;
  readonly resourceId: string;
  readonly record: RecordData;
  readonly action: 'updated' | 'destroyed';
  /** planRow's view of the destination (see genesis-target.ts). */
  readonly topicName: string;
  readonly genesisReplica: boolean;
  readonly partitionKeyAttribute: string;
  readonly idType: IdType | undefined;
  readonly partitionCount: (topic: string) => number;
}

/**
 * The messages of one record: exactly what the relay would send for an outbox row
 * `<singular>_<action>` of this resource without a partition_key (the gem's genesis job writes
 * none, so the partition key comes from the record's configured attribute).
 */
export function genesisMessages(input: GenesisMessageInput): readonly OutgoingMessage[] {
  // Genesis writes no outbox row; planRow reads only the class, id, event and partition key of it.
  const row: ClaimedRow = {
    id: '0',
    resourceClass: input.modelName,
    resourceId: input.resourceId,
    eventName: eventName(input.modelName, input.action),
    topic: input.topicName,
    partitionKey: null,
    attempts: 0,
    createdAtMs: 0,
    changeset: null,
  };
  const plan = planRow({
    row,
    topicName: input.topicName,
    genesisReplica: input.genesisReplica,
    partitionKeyAttribute: input.partitionKeyAttribute,
    idType: input.idType,
    record: input.record,
    partitionCount: input.partitionCount,
  });
  // A present record is always sent; 'skip' only happens for a missing one.
  return plan.kind === 'send' ? plan.messages : [];
}
