/**
 * One error type for the whole relay.
 *
 * Every failure the relay reports carries a code from a closed set, a `retriable` flag (would the
 * same operation succeed if tried again later?), an optional `cause`, and enumerable context so
 * that pino logs it whole. Row failures store the code in `error_class`, which makes the outbox
 * table greppable by failure kind.
 */

export const ERROR_CODES = [
  // configuration and start-up
  'CONFIG_INVALID',
  'TOPICS_FILE_INVALID',
  // per-row failures (stored in dionysus_outboxes.error_class)
  'UNKNOWN_MODEL',
  'SERIALIZER_FAILED',
  'SERIALIZER_TIMEOUT',
  'RECORD_INVALID',
  'ENCODING_FAILED',
  'MESSAGE_TOO_LARGE',
  'KAFKA_DELIVERY_FAILED',
  'KAFKA_PRODUCE_FAILED',
  'KAFKA_TOPIC_UNAVAILABLE',
  // a row left pending, not failed: another relay, frozen, may still send its resource
  'RESOURCE_HELD',
  // the sink (consuming half): configuration, and per-message failures (Kafka headers of dead letters)
  'SINK_FILE_INVALID',
  'SINK_MESSAGE_INVALID',
  'SINK_MODEL_UNMAPPED',
  'SINK_APPLY_FAILED',
  // the sink: a concurrent writer changed a row during the batch's statement (retried)
  'SINK_APPLY_CONFLICT',
  'SINK_DEAD_LETTER_FAILED',
  // infrastructure
  'POSTGRES_UNAVAILABLE',
  'POSTGRES_QUERY_FAILED',
  'KAFKA_UNAVAILABLE',
  // a dependency answers but refuses us (credentials, database name, TLS): waiting cannot fix it
  'POSTGRES_REJECTED',
  'KAFKA_REJECTED',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Codes that mean "the configuration is wrong": the CLI exits 2 at once for them, and `run` does
 * not wait them out. A dependency that refuses our credentials is one of them: only a change of
 * settings (or of the server's accounts) can end it.
 */
export const CONFIGURATION_ERROR_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CONFIG_INVALID',
  'TOPICS_FILE_INVALID',
  'SINK_FILE_INVALID',
  'POSTGRES_REJECTED',
  'KAFKA_REJECTED',
]);

export interface RelayErrorOptions {
  retriable?: boolean;
  cause?: unknown;
  context?: Record<string, unknown>;
}

export class RelayError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: RelayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RelayError';
    this.code = code;
    this.retriable = options.retriable ?? false;
    this.context = options.context ?? {};
  }

  /** Shape pino serialises; the cause's message is kept because that is where the detail lives. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      retriable: this.retriable,
      context: this.context,
      cause: describeCause(this.cause),
    };
  }
}

function describeCause(cause: unknown): unknown {
  if (cause === undefined) return undefined;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return { name: cause.name, message: cause.message, ...(code === undefined ? {} : { code }) };
  }
  return String(cause);
}

/** Message of any thrown value, without assuming it is an Error. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
