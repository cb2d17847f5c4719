// A serialized record as the gem's model serializer builds it, written straight to JSON.
//
// The gem's record is: the declared attributes in declaration order, then `links` (the ids of the
// declared relationships, `{}` when there are none), then the sideloaded relationships, each
// serialized by the related model's own serializer (with its own `links`, one level deep).
// Here a serializer's result row gives the attributes (its columns in order, each written by the
// codec of its PostgreSQL type, see column-types/), the loader adds the links and sideloads.
// Values stay PostgreSQL text until the message is built, so a value Rails cannot encode fails
// the row that carries it (EncodingError) and nothing else.
import { rubyStringToI, type ColumnCodec } from './column-types/codec';
import { EncodingError, encodeRailsJsonAt, encodeRailsString } from './rails-json';
import { partitionKeyFromAttribute } from './partitioner';
import { RawJson } from './ruby-numbers';

/** A column of a serializer's result. */
export interface ShapeColumn {
  readonly name: string;
  readonly codec: ColumnCodec;
  /** False for a column the relay only reads (a link's id, the partition key): not sent. */
  readonly sent: boolean;
}

/** A record the relay builds itself (a destroyed resource that no longer exists). */
export type SerializedRecord = Record<string, unknown>;

/** A sideloaded relationship's value: one record (or nil) for has_one, a list for has_many. */
export type SideloadValue = ShapedRecord | null | readonly ShapedRecord[];


/** A serializer's result columns, compiled once: each sent column's `"name":` prefix. */
export class RecordShape {
  private readonly byName: ReadonlyMap<string, number>;
  /** [index, `"name":`] of the sent columns, in column order. */
  private readonly sent: ReadonlyArray<readonly [number, string]>;

  constructor(readonly columns: readonly ShapeColumn[]) {
    this.byName = new Map(columns.map((c, i) => [c.name, i]));
    this.sent = columns.flatMap((c, i) => (c.sent ? [[i, `${encodeRailsString(c.name)}:`] as const] : []));
  }

  index(name: string): number | undefined {
    return this.byName.get(name);
  }

  /** The record of one result row (`values`: the columns' text, null for NULL). */
  record(values: ReadonlyArray<string | null>): ShapedRecord {
    return new ShapedRecord(this, values);
  }

  /** The attributes' JSON members, `"id":1,"name":"x"`. Throws EncodingError (path: column). */
  attributesJson(values: ReadonlyArray<string | null>): string {
    let out = '';
    for (const [i, prefix] of this.sent) {
      const text = values[i];
      const column = this.columns[i] as ShapeColumn;
      out += `${out === '' ? '' : ','}${prefix}${text === null || text === undefined ? 'null' : column.codec.json(text, column.name)}`;
    }
    return out;
  }
}

/** One serialized record: a result row, its links and its sideloads. */
export class ShapedRecord {
  /** [name, JSON] of each link, in declaration order. */
  links: ReadonlyArray<readonly [string, string]> = [];
  /** [name, value] of each sideloaded relationship, in declaration order. */
  sideloads: ReadonlyArray<readonly [string, SideloadValue]> = [];

  constructor(
    readonly shape: RecordShape,
    readonly values: ReadonlyArray<string | null>,
  ) {}

  /** The record's JSON object. Throws EncodingError with the path of the failing value. */
  json(): string {
    const attributes = this.shape.attributesJson(this.values);
    let links = '';
    for (const [name, value] of this.links) links += `${links === '' ? '' : ','}${linkPrefix(name)}${value}`;
    let out = `{${attributes}${attributes === '' ? '' : ','}"links":{${links}}`;
    for (const [name, value] of this.sideloads) out += `,${encodeRailsString(name)}:${sideloadJson(name, value)}`;
    return `${out}}`;
  }

  /** Whether the serializer returns the column (sent or not). */
  has(name: string): boolean {
    return this.shape.index(name) !== undefined;
  }

  /** A column's PostgreSQL text: null for NULL, undefined when there is no such column. */
  text(name: string): string | null | undefined {
    const i = this.shape.index(name);
    return i === undefined ? undefined : (this.values[i] ?? null);
  }

  /** The column's codec, undefined when there is no such column. */
  codec(name: string): ColumnCodec | undefined {
    const i = this.shape.index(name);
    return i === undefined ? undefined : this.shape.columns[i]?.codec;
  }
}

/** `"name":` of a link, kept per name: a serializer declares a handful of relationships. */
const linkPrefixes = new Map<string, string>();

function linkPrefix(name: string): string {
  let prefix = linkPrefixes.get(name);
  if (prefix === undefined) {
    prefix = `${encodeRailsString(name)}:`;
    // Relationship names come from the topics file: few and fixed, but bounded all the same.
    if (linkPrefixes.size >= 1024) linkPrefixes.clear();
    linkPrefixes.set(name, prefix);
  }
  return prefix;
}

function sideloadJson(name: string, value: SideloadValue): string {
  if (value === null) return 'null';
  if (value instanceof ShapedRecord) return within(value, name);
  return `[${value.map((r, i) => within(r, `${name}[${i}]`)).join(',')}]`;
}

function within(record: ShapedRecord, path: string): string {
  try {
    return record.json();
  } catch (err) {
    throw err instanceof EncodingError ? err.within(path) : err;
  }
}

/** A record as planRow takes it: a result row of a serializer, or an object built by the relay. */
export type RecordData = SerializedRecord | ShapedRecord;

/** Whether a record has the attribute at all (links always). */
export function recordHas(record: RecordData, name: string): boolean {
  return record instanceof ShapedRecord ? record.has(name) : Object.prototype.hasOwnProperty.call(record, name);
}

/**
 * A scalar attribute as the message writes it: a JSON string's content (times in Rails' form,
 * `2024-01-01T10:00:00.000Z`), null for null, otherwise the JSON text. Undefined when absent.
 */
export function recordAttribute(record: RecordData, name: string): unknown {
  if (!(record instanceof ShapedRecord)) return record[name];
  const text = record.text(name);
  if (text === null || text === undefined) return text;
  const json = (record.codec(name) as ColumnCodec).json(text, name);
  return json.startsWith('"') ? (JSON.parse(json) as string) : json === 'null' ? null : json;
}

/**
 * The gem's partition key from an attribute of the model: `value.to_i.to_s` (nil → "0"); null
 * when the model has no such attribute (the message key is hashed instead). Throws Error where
 * Ruby's to_i is undefined or raises for the value.
 */
export function recordPartitionKey(record: RecordData, attribute: string): string | null {
  if (!(record instanceof ShapedRecord)) {
    if (!recordHas(record, attribute)) return null;
    const value = record[attribute];
    // A numeric key of a vanished record (BigDecimal#to_i; ids are far below its floor quirk).
    return value instanceof RawJson ? rubyStringToI(JSON.parse(value.json) as string) : partitionKeyFromAttribute(value);
  }
  const text = record.text(attribute);
  if (text === undefined) return null;
  if (text === null) return '0';
  const codec = record.codec(attribute) as ColumnCodec;
  if (codec.toI === undefined) throw new Error(`${attribute}: a ${codec.type} value has no to_i in Ruby, so it cannot be the partition key`);
  return codec.toI(text, attribute);
}

/**
 * The record's id as Ruby prints it (`resource.id.to_s`, the gem's message key): `42`, `42.0`
 * for a numeric key, the text of a string or uuid key. Undefined when the record has no id.
 */
export function recordIdText(record: RecordData): string | undefined {
  if (record instanceof ShapedRecord) {
    const text = record.text('id');
    if (text === null || text === undefined) return undefined;
    const toS = record.codec('id')?.toS;
    return toS === undefined ? text : toS(text, 'id');
  }
  const id = record['id'];
  if (typeof id === 'bigint' || typeof id === 'string' || typeof id === 'number') return String(id);
  if (id instanceof RawJson) return JSON.parse(id.json) as string;
  return undefined;
}

/**
 * Where a record sits in the gem's envelope `{"message":[{...,"data":[record]}]}`: the path
 * prefix of encoding errors, and the containers already open around it (for the nesting limit).
 */
const RECORD_PATH: ReadonlyArray<string | number> = ['message', 0, 'data', 0];
const RECORD_DEPTH = 5;

/** The record's JSON inside the gem's envelope. */
export function encodeRecordJson(record: RecordData): string {
  return record instanceof ShapedRecord ? record.json() : encodeRailsJsonAt(record, RECORD_PATH, RECORD_DEPTH - 1);
}
