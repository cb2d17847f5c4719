import type { ErrorCode } from '../errors';
import { decideRetry, type RetryPolicy } from './retry-schedule';

/**
 * What becomes of one row of a batch once its messages were delivered or not: the decision the
 * mark writes, pure (the retry schedule's randomness is passed in).
 */

/** Why a row was not published: the error its target, its record, its message or its delivery got. */
export interface RowFailure {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly message: string;
}

export type RowOutcome =
  /** Every message of the row was acknowledged (or it had nothing to send): marked published. */
  | { readonly kind: 'published' }
  /** Its resource is locked by another batch or may still be sent by a frozen relay: left pending, no attempt counted. */
  | { readonly kind: 'held-back' }
  /** The broker, not the row, failed: left pending, no attempt counted, claimed again after the commit. */
  | { readonly kind: 'released' }
  /** The row's own failure: attempts + 1, retried after `retryInMs` (the retry schedule). */
  | { readonly kind: 'failed'; readonly errorClass: ErrorCode; readonly errorMessage: string; readonly attempts: number; readonly retryInMs: number }
  /** The row's own failure, its last allowed attempt: retry_at = infinity. */
  | { readonly kind: 'given-up'; readonly errorClass: ErrorCode; readonly errorMessage: string; readonly attempts: number };

/** Whose fault a failure is: nobody's (held back), the broker's (released), or the row's (counted). */
export type FailureKind = 'held-back' | 'released' | 'counted';

/**
 * Failures that are not the row's are never counted against it:
 * - RESOURCE_HELD: another batch publishes the resource now, or a frozen relay may still send it;
 * - KAFKA_UNAVAILABLE: the producer stopped, or could not queue the batch;
 * - KAFKA_DELIVERY_FAILED when retriable: a transport-level delivery error (the broker went away,
 *   the message timed out in librdkafka's queue), which says nothing about the message.
 * Everything else (a serializer error, an unencodable record, a message the broker refuses, an
 * unknown model or topic) is the row's own failure.
 */
export function classifyFailure(failure: Pick<RowFailure, 'code' | 'retriable'>): FailureKind {
  switch (failure.code) {
    case 'RESOURCE_HELD':
      return 'held-back';
    case 'KAFKA_UNAVAILABLE':
      return 'released';
    case 'KAFKA_DELIVERY_FAILED':
      return failure.retriable ? 'released' : 'counted';
    default:
      return 'counted';
  }
}

/**
 * The outcome of a row that had `failure` (undefined: none) after `attemptsBefore` failed attempts.
 * A counted failure goes through the retry schedule with the attempts including this one.
 */
export function decideRowOutcome(failure: RowFailure | undefined, attemptsBefore: number, policy: RetryPolicy, random: () => number): RowOutcome {
  if (failure === undefined) return { kind: 'published' };
  const kind = classifyFailure(failure);
  if (kind !== 'counted') return { kind };
  const attempts = attemptsBefore + 1;
  const decision = decideRetry(attempts, policy, random);
  const error = { errorClass: failure.code, errorMessage: failure.message, attempts };
  return decision.giveUp ? { kind: 'given-up', ...error } : { kind: 'failed', ...error, retryInMs: decision.delayMs };
}

/**
 * The failure that decides a row: its own (found before anything was sent), else the first failed
 * delivery among its messages' outcomes (null = acknowledged).
 */
export function rowFailure<F>(own: F | undefined, deliveries: readonly (F | null | undefined)[]): F | undefined {
  if (own !== undefined) return own;
  for (const outcome of deliveries) if (outcome !== null && outcome !== undefined) return outcome;
  return undefined;
}
