import { isJsonObject, readJson, type JsonObject, type JsonValue } from './json-value';

/**
 * Reading one Kafka message the way the gem's consumer does (contract §5): the value is
 * `{"message":[{"event":..,"model_name":..,"data":[record, ...]}, ...]}`. A tombstone (a real
 * null, the 4-byte string `null`, or a payload without `message`) applies nothing. `data` may be
 * one record or a list (the gem wraps it); every record must be an object.
 */

/** One event of a message. */
export interface SinkEvent {
  readonly eventName: string;
  /** The producer's class name (`User`); '' when the event has none (no model maps to it). */
  readonly modelName: string;
  readonly records: readonly JsonObject[];
  /** `data` as received, for the inbox. */
  readonly data: JsonValue;
  /** The message holds no JsonNumber: its values may be written with JSON.stringify. */
  readonly exactNumbers: boolean;
}

export type EnvelopeReading =
  | { readonly kind: 'tombstone' }
  | { readonly kind: 'events'; readonly events: readonly SinkEvent[] }
  | { readonly kind: 'invalid'; readonly reason: string };

export function readEnvelope(value: Buffer | null): EnvelopeReading {
  if (value === null || value.length === 0) return { kind: 'tombstone' };
  let payload: JsonValue;
  let exactNumbers: boolean;
  try {
    ({ value: payload, exactNumbers } = readJson(value.toString('utf8')));
  } catch (err) {
    return { kind: 'invalid', reason: `value is not JSON: ${(err as Error).message}` };
  }
  if (payload === null) return { kind: 'tombstone' };
  if (!isJsonObject(payload)) return { kind: 'invalid', reason: 'value is not a JSON object' };
  const message = payload['message'];
  if (message === undefined || message === null) return { kind: 'tombstone' };
  if (!Array.isArray(message)) return { kind: 'invalid', reason: '"message" is not an array' };
  const events: SinkEvent[] = [];
  for (const [i, entry] of message.entries()) {
    if (!isJsonObject(entry)) return { kind: 'invalid', reason: `message[${i}] is not an object` };
    const eventName = entry['event'];
    if (typeof eventName !== 'string' || eventName === '') return { kind: 'invalid', reason: `message[${i}].event is not a non-empty string` };
    const modelName = entry['model_name'];
    if (modelName !== undefined && modelName !== null && typeof modelName !== 'string') {
      return { kind: 'invalid', reason: `message[${i}].model_name is not a string` };
    }
    const data = entry['data'] ?? null;
    const records = data === null ? [] : Array.isArray(data) ? data : [data];
    const badRecord = records.findIndex((r) => !isJsonObject(r));
    if (badRecord >= 0) return { kind: 'invalid', reason: `message[${i}].data[${badRecord}] is not an object` };
    events.push({ eventName, modelName: modelName ?? '', records: records as JsonObject[], data, exactNumbers });
  }
  return { kind: 'events', events };
}

export type EventKind = 'created' | 'updated' | 'destroyed' | 'other';

/** The gem's DionysusEvent#created? / updated? / destroyed?: by the event name's ending. */
export function eventKind(eventName: string): EventKind {
  if (eventName.endsWith('created')) return 'created';
  if (eventName.endsWith('updated')) return 'updated';
  if (eventName.endsWith('destroyed')) return 'destroyed';
  return 'other';
}
