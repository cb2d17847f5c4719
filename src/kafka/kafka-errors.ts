import { CODES } from 'node-rdkafka';
import { RelayError, type ErrorCode } from '../errors';

/**
 * librdkafka errors, split like Postgres ones:
 * - transport-level (broker down, timed out in the queue): say nothing about the message, so the
 *   batch is abandoned and its rows are claimed again later without counting an attempt;
 * - message-level (too large, invalid record, topic unknown or forbidden): the row fails and goes
 *   through the retry schedule.
 */
const ERR = CODES.ERRORS as Record<string, number>;

const TRANSPORT_CODES = new Set<number>(
  ['ERR__MSG_TIMED_OUT', 'ERR__TRANSPORT', 'ERR__ALL_BROKERS_DOWN', 'ERR__TIMED_OUT', 'ERR__RESOLVE', 'ERR__DESTROY', 'ERR__FATAL',
    'ERR_NOT_ENOUGH_REPLICAS', 'ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND', 'ERR_REQUEST_TIMED_OUT', 'ERR_NOT_LEADER_FOR_PARTITION',
    'ERR_LEADER_NOT_AVAILABLE', 'ERR__ISR_INSUFF']
    .map((name) => ERR[name])
    .filter((code): code is number => code !== undefined),
);

const TOO_LARGE_CODES = new Set<number>(
  ['ERR_MSG_SIZE_TOO_LARGE', 'ERR_RECORD_LIST_TOO_LARGE'].map((n) => ERR[n]).filter((c): c is number => c !== undefined),
);

const TOPIC_CODES = new Set<number>(
  ['ERR__UNKNOWN_TOPIC', 'ERR_UNKNOWN_TOPIC_OR_PART', 'ERR__UNKNOWN_PARTITION', 'ERR_TOPIC_AUTHORIZATION_FAILED']
    .map((n) => ERR[n])
    .filter((c): c is number => c !== undefined),
);

const NAMES = new Map<number, string>(Object.entries(ERR).map(([name, code]) => [code, name]));

/**
 * Delivery reports carry only librdkafka's error text (node-rdkafka turns it into code -1), so the
 * code is recovered from the text for the errors whose handling differs.
 */
const CODES_BY_TEXT: ReadonlyArray<[RegExp, string]> = [
  [/message size too large/i, 'ERR_MSG_SIZE_TOO_LARGE'],
  [/message batch larger than configured server segment size|record list too large/i, 'ERR_RECORD_LIST_TOO_LARGE'],
  [/message timed out/i, 'ERR__MSG_TIMED_OUT'],
  [/unknown topic or partition/i, 'ERR_UNKNOWN_TOPIC_OR_PART'],
  [/topic authorization failed/i, 'ERR_TOPIC_AUTHORIZATION_FAILED'],
  [/not enough in-sync replicas/i, 'ERR_NOT_ENOUGH_REPLICAS'],
  [/all broker connections are down/i, 'ERR__ALL_BROKERS_DOWN'],
];

export function kafkaCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && code !== -1) return code;
  const text = String((err as { message?: unknown } | null)?.message ?? '');
  for (const [pattern, name] of CODES_BY_TEXT) {
    if (pattern.test(text)) return ERR[name];
  }
  return typeof code === 'number' ? code : undefined;
}

export function kafkaCodeName(err: unknown): string {
  const code = kafkaCode(err);
  return code === undefined ? 'unknown' : (NAMES.get(code) ?? String(code));
}

export function isTransportError(err: unknown): boolean {
  const code = kafkaCode(err);
  return code !== undefined && TRANSPORT_CODES.has(code);
}

export const QUEUE_FULL_CODE = ERR['ERR__QUEUE_FULL'];

/** A per-message failure as a RelayError whose code ends up in error_class. */
export function messageError(err: unknown, topic: string, phase: 'produce' | 'delivery'): RelayError {
  const code = kafkaCode(err);
  let relayCode: ErrorCode = phase === 'produce' ? 'KAFKA_PRODUCE_FAILED' : 'KAFKA_DELIVERY_FAILED';
  if (code !== undefined && TOO_LARGE_CODES.has(code)) relayCode = 'MESSAGE_TOO_LARGE';
  else if (code !== undefined && TOPIC_CODES.has(code)) relayCode = 'KAFKA_TOPIC_UNAVAILABLE';
  const message = (err as { message?: unknown } | null)?.message;
  return new RelayError(relayCode, `${phase} to ${topic} failed: ${kafkaCodeName(err)}: ${String(message ?? err)}`, {
    cause: err,
    retriable: isTransportError(err),
    context: { topic, kafkaCode: code },
  });
}
