// A serializer's result columns compiled once into a JSON writer for its rows.
//
// Every row of a serializer query has the same columns, so everything that depends only on the
// columns is done once per shape instead of once per row: the key order the gem uses (attributes,
// then `links`, then sideloads; see buildRecord), each key's quoted form, and the position of
// every attribute. A row is then written straight from the value array node-postgres returns,
// without building a record object and walking it generically. The bytes are exactly those of
// encodeRailsJson(buildRecord(fields, values)); the unit tests compare the two on every kind of
// value the relay's type parsers produce.
import { RawJson } from './ruby-numbers';
import { encodeRailsJsonAt, encodeRailsString } from './rails-json';

/** A column of a serializer's result. `json` columns (json/jsonb) are nested objects. */
export interface RecordField {
  readonly name: string;
  readonly json: boolean;
}

export type SerializedRecord = Record<string, unknown>;

const LINKS = 'links';

/**
 * Builds a record in the gem's key order: attributes in declaration (column) order, then `links`
 * (always present, `{}` by default), then sideloaded relationships (the other json columns).
 */
export function buildRecord(fields: readonly RecordField[], values: readonly unknown[]): SerializedRecord {
  const record: SerializedRecord = {};
  let links: unknown = {};
  const sideloads: Array<[string, unknown]> = [];
  fields.forEach((field, i) => {
    const value = values[i];
    if (field.name === LINKS) links = value ?? {};
    else if (field.json) sideloads.push([field.name, value]);
    else record[field.name] = value;
  });
  record[LINKS] = links;
  for (const [name, value] of sideloads) record[name] = value;
  return record;
}

/**
 * Where a record sits in the gem's envelope `{"message":[{...,"data":[record]}]}`: the path
 * prefix of encoding errors, and the containers already open around it (for the nesting limit).
 */
const RECORD_PATH: ReadonlyArray<string | number> = ['message', 0, 'data', 0];
const RECORD_DEPTH = 5;

/** Names a JavaScript object cannot keep in insertion order or as an own key. */
function reordersOrHides(name: string): boolean {
  // Array-index-like keys ("0", "42") are listed first by JS objects; `__proto__` would set the
  // prototype of a record object instead of a key.
  return /^(?:0|[1-9]\d{0,9})$/.test(name) || name === '__proto__';
}

export class RecordShape {
  /** Column positions in the order the record writes them; `links` is -1 when there is none. */
  private readonly order: readonly number[];
  /** `{"id":` / `,"email":` ... one per entry of `order`. */
  private readonly prefixes: readonly string[];
  private readonly names: readonly string[];
  /** Where `links` sits in `order`: right after the attributes. */
  private readonly linksSlot: number;
  private readonly byName: ReadonlyMap<string, number>;
  /**
   * False when column names repeat or cannot be object keys in order: such rows are written
   * through a record object (buildRecord), which decides what wins exactly as before.
   */
  private readonly compiled: boolean;

  constructor(readonly fields: readonly RecordField[]) {
    const names = fields.map((f) => f.name);
    this.compiled = new Set(names).size === names.length && !names.some(reordersOrHides);
    const attributes: number[] = [];
    const sideloads: number[] = [];
    let links = -1;
    fields.forEach((f, i) => {
      if (f.name === LINKS) links = i;
      else if (f.json) sideloads.push(i);
      else attributes.push(i);
    });
    this.order = [...attributes, links, ...sideloads];
    this.linksSlot = attributes.length;
    this.names = names;
    this.prefixes = this.order.map((i, k) => `${k === 0 ? '{' : ','}${encodeRailsString(i === -1 ? LINKS : (names[i] as string))}:`);
    this.byName = new Map(names.map((n, i) => [n, i]));
  }

  /** The record of one result row (`values` in column order). */
  record(values: readonly unknown[]): ShapedRecord {
    return new ShapedRecord(this, values);
  }

  /** The record's JSON as Rails writes it. Throws EncodingError (path from the envelope's root). */
  encode(values: readonly unknown[]): string {
    if (!this.compiled) return encodeRailsJsonAt(this.toObject(values), RECORD_PATH, RECORD_DEPTH - 1);
    const { order, prefixes, names, linksSlot } = this;
    let out = '';
    for (let k = 0; k < order.length; k++) {
      const i = order[k] as number;
      const value = i === -1 ? undefined : values[i];
      // buildRecord: a missing or NULL links is `{}`.
      if (k === linksSlot) out += prefixes[k] + (value === null || value === undefined ? '{}' : encodeValue(value, LINKS));
      else out += prefixes[k] + encodeValue(value, names[i] as string);
    }
    return out + '}';
  }

  has(name: string): boolean {
    return name === LINKS || this.byName.has(name);
  }

  /** An attribute's value as the record object would hold it (links defaults to `{}`). */
  get(values: readonly unknown[], name: string): unknown {
    if (!this.compiled) return this.toObject(values)[name];
    const i = this.byName.get(name);
    const value = i === undefined ? undefined : values[i];
    return name === LINKS ? (value ?? {}) : value;
  }

  /** The record as an object, in the gem's key order (see buildRecord). */
  toObject(values: readonly unknown[]): SerializedRecord {
    return buildRecord(this.fields, values);
  }
}

/** One serialized record: a result row and the shape it came with. */
export class ShapedRecord {
  constructor(
    private readonly shape: RecordShape,
    private readonly values: readonly unknown[],
  ) {}

  json(): string {
    return this.shape.encode(this.values);
  }

  has(name: string): boolean {
    return this.shape.has(name);
  }

  get(name: string): unknown {
    return this.shape.get(this.values, name);
  }

  toObject(): SerializedRecord {
    return this.shape.toObject(this.values);
  }
}

/** A record as planRow takes it: a result row of a serializer, or an object built by the relay. */
export type RecordData = SerializedRecord | ShapedRecord;

/** Whether a record has the attribute at all (links always). */
export function recordHas(record: RecordData, name: string): boolean {
  return record instanceof ShapedRecord ? record.has(name) : Object.prototype.hasOwnProperty.call(record, name);
}

/** One attribute of a record (undefined when it has none). */
export function recordAttribute(record: RecordData, name: string): unknown {
  return record instanceof ShapedRecord ? record.get(name) : record[name];
}

/** The record's JSON inside the gem's envelope (paths of encoding errors start at the envelope). */
export function encodeRecordJson(record: RecordData): string {
  return record instanceof ShapedRecord ? record.json() : encodeRailsJsonAt(record, RECORD_PATH, RECORD_DEPTH - 1);
}

/**
 * One column value. The scalars the type parsers produce are written inline; anything else
 * (json objects and arrays, dates, values that must fail) goes through the generic encoder, with
 * the path it would have had inside the envelope.
 */
function encodeValue(value: unknown, name: string): string {
  switch (typeof value) {
    case 'string':
      return encodeRailsString(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // For finite numbers String() and JSON.stringify() print the same digits.
      return Number.isFinite(value) ? String(value) : 'null';
    case 'undefined':
      return 'null';
    default:
      if (value === null) return 'null';
      if (value instanceof RawJson) return value.json;
      return encodeRailsJsonAt(value, [...RECORD_PATH, name], RECORD_DEPTH);
  }
}
