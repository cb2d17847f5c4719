import { singularize } from './inflector';
import { isJsonObject, newJsonObject, newRecordObject, setMember, type JsonObject, type JsonValue } from './json-value';

/**
 * A received record read the way the gem's Deserializer reads it (contract §5):
 * - every link becomes an attribute: `account: 1` → synced_account_id; `bookings: [1, 2]` →
 *   synced_booking_ids (singular name); `owner: {"id": 1, "type": "User"}` (polymorphic) →
 *   synced_owner_id and synced_owner_type;
 * - `id` → synced_id (always, null when missing); `created_at`, `updated_at`, `canceled_at` →
 *   synced_created_at, synced_updated_at, synced_canceled_at when present;
 * - every other key that is not a link name is a plain attribute, its value untouched;
 * - for each link, a top-level key of the same name holds the sideloaded record(s), read the
 *   same way: to-many links give a list, to-one links one record (polymorphic: of the `type`).
 */

export interface ToManySideload {
  /** The link's name, also the name its records are mapped by (`bookings`). */
  readonly name: string;
  /** null when the record has no key of that name: the relationship is not touched. */
  readonly records: readonly ReadRecord[] | null;
}

export interface ToOneSideload {
  readonly name: string;
  /** The name the record is mapped by: the link's name, or the `type` of a polymorphic link. */
  readonly modelName: string;
  readonly record: ReadRecord | null;
}

export interface ReadRecord {
  /** The gem's attribute hash, stored whole in synced_data. */
  readonly attributes: JsonObject;
  readonly toMany: readonly ToManySideload[];
  readonly toOne: readonly ToOneSideload[];
}

export class RecordShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordShapeError';
  }
}

const RESERVED = new Set(['links', 'id', 'created_at', 'updated_at', 'canceled_at']);
const TIMESTAMPS = ['created_at', 'updated_at', 'canceled_at'] as const;
/** Sideloads nest one level on the wire; deeper recursion is a malformed (or hostile) record. */
const MAX_NESTING = 8;

export function readRecord(payload: JsonObject, depth = 0): ReadRecord {
  if (depth > MAX_NESTING) throw new RecordShapeError('sideloaded records nest too deep');
  const links = readLinks(payload['links']);
  const attributes = newRecordObject();
  for (const name in links) assignLink(attributes, name, links[name] as JsonValue);
  attributes['synced_id'] = payload['id'] ?? null;
  for (const key of TIMESTAMPS) {
    if (Object.hasOwn(payload, key)) attributes[`synced_${key}`] = payload[key] as JsonValue;
  }
  for (const key in payload) {
    if (!RESERVED.has(key) && !Object.hasOwn(links, key)) setMember(attributes, key, payload[key] as JsonValue);
  }
  const toMany: ToManySideload[] = [];
  const toOne: ToOneSideload[] = [];
  for (const name in links) {
    const link = links[name] as JsonValue;
    const value = payload[name];
    if (Array.isArray(link)) {
      toMany.push({ name, records: value === undefined || value === null ? null : readList(value, name, depth) });
    } else {
      const modelName = isJsonObject(link) && typeof link['type'] === 'string' ? link['type'] : name;
      const first = value === undefined || value === null ? undefined : Array.isArray(value) ? value[0] : value;
      toOne.push({ name, modelName, record: first === undefined || first === null ? null : readNested(first, name, depth) });
    }
  }
  return { attributes, toMany, toOne };
}

function readLinks(value: JsonValue | undefined): JsonObject {
  if (value === undefined || value === null) return newJsonObject();
  if (!isJsonObject(value)) throw new RecordShapeError('"links" is not an object');
  return value;
}

function assignLink(attributes: JsonObject, name: string, value: JsonValue): void {
  if (isJsonObject(value)) {
    attributes[`synced_${name}_id`] = value['id'] ?? null;
    attributes[`synced_${name}_type`] = value['type'] ?? null;
  } else if (Array.isArray(value)) {
    attributes[`synced_${singularize(name)}_ids`] = value;
  } else {
    attributes[`synced_${name}_id`] = value;
  }
}

function readList(value: JsonValue, name: string, depth: number): ReadRecord[] {
  if (!Array.isArray(value)) throw new RecordShapeError(`sideloaded "${name}" is not a list (its link is a list of ids)`);
  return value.map((item) => readNested(item, name, depth));
}

function readNested(value: JsonValue, name: string, depth: number): ReadRecord {
  if (!isJsonObject(value)) throw new RecordShapeError(`a sideloaded "${name}" record is not an object`);
  return readRecord(value, depth + 1);
}

/** The gem's event time of a record: synced_updated_at, else synced_created_at (values). */
export function incomingTime(attributes: JsonObject): JsonValue {
  return attributes['synced_updated_at'] ?? attributes['synced_created_at'] ?? null;
}
