import type { Pool } from 'pg';
import type { TopicConfig } from '../config/topics-types';
import type { ColumnCodec } from '../domain/column-types/codec';
import { parsePgArray, type PgArray } from '../domain/column-types/pg-array';
import { codecFor } from '../domain/column-types/type-mapping';
import type { RelationshipConfig } from '../domain/model-types';
import { EncodingError } from '../domain/rails-json';
import type { ShapedRecord, SideloadValue } from '../domain/record-shape';
import { RelayError, errorMessage } from '../errors';
import { isInfrastructureError, sqlState } from './pg-errors';
import type { PreparedSerializer } from './serializer-loader';
import { queryText, runIsolating, statementError } from './text-query';
import type { TypeCatalog } from './type-catalog';

/** A relationship's statement (`sql:`), checked at start. */
interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

/** One related record a link points at: its id (and class, when polymorphic) as text. */
interface LinkTarget {
  readonly id: string;
  readonly type: string | undefined;
}

/** A record's link: its JSON in `links`, and the records it points at (for the sideload). */
interface Link {
  readonly json: string;
  readonly targets: readonly LinkTarget[];
}

type Rows = { records: Map<string, ShapedRecord>; failures: Map<string, RelayError> };

/**
 * Completes records with their relationships, as the gem's model serializer does: each declared
 * relationship's link in `links` (declaration order), then each sideloaded relationship's records,
 * serialized by the related model's serializer with their own links and no sideloads of their own
 * (the gem sideloads one level). One query per relationship per batch (a `sql:` link) and one per
 * sideloaded relationship (per class, when polymorphic): never one per record.
 */
export class RelationshipLoader {
  private readonly statements = new Map<RelationshipConfig, PreparedStatement>();

  constructor(
    private readonly pool: Pool,
    private readonly catalog: TypeCatalog,
    private readonly lookup: (topic: TopicConfig | undefined, model: string) => PreparedSerializer | undefined,
    private readonly rows: (serializer: PreparedSerializer, ids: readonly string[]) => Promise<Rows>,
  ) {}

  /** Runs every relationship statement once with no owners and checks its columns; returns the problems. */
  async prepare(serializers: readonly PreparedSerializer[]): Promise<string[]> {
    const problems: string[] = [];
    for (const serializer of serializers) {
      for (const rel of serializer.model.relationships) {
        if (rel.sideload && rel.model !== undefined && this.lookup(serializer.topic, rel.model) === undefined) {
          problems.push(`${rel.path}: ${rel.model} has no serializer to sideload it with`);
        }
        if (rel.source.kind !== 'sql') continue;
        const statement = { name: `dionysus_relay_relationship_${this.statements.size + 1}`, text: rel.source.sql };
        try {
          const result = await queryText(this.pool, statement.name, statement.text, []);
          const names = result.fields.map((f) => f.name);
          const wanted = ['owner_id', 'id', ...(rel.polymorphic ? ['type'] : [])];
          const types = await this.catalog.describe(result.fields);
          const refused = types.flatMap((t, i) => {
            const choice = codecFor(t);
            return 'refused' in choice ? [`column ${names[i]}: ${choice.refused}`] : [];
          });
          if (wanted.some((n) => !names.includes(n))) problems.push(`${rel.path}.sql: must return columns ${wanted.join(', ')} (got ${names.join(', ')})`);
          else if (refused.length > 0) problems.push(`${rel.path}.sql: ${refused.join('; ')}`);
          else this.statements.set(rel, statement);
        } catch (err) {
          if (sqlState(err) === undefined || isInfrastructureError(err)) throw err;
          problems.push(`${rel.path}.sql: ${errorMessage(err)}`);
        }
      }
    }
    return problems;
  }

  /** Sets the links (and, with `sideloads`, the sideloaded records) of `records`; a record that cannot have them moves to `failures`. */
  async complete(serializer: PreparedSerializer, records: Map<string, ShapedRecord>, failures: Map<string, RelayError>, sideloads: boolean): Promise<void> {
    const relationships = serializer.model.relationships;
    if (relationships.length === 0 || records.size === 0) return;
    const links = new Map<ShapedRecord, Array<readonly [string, string]>>();
    const loaded = new Map<ShapedRecord, Array<readonly [string, SideloadValue]>>();
    for (const record of records.values()) {
      links.set(record, []);
      loaded.set(record, []);
    }
    const fail = (record: ShapedRecord, error: RelayError): void => {
      for (const [id, r] of records) if (r === record) failures.set(id, error);
      links.delete(record);
    };
    for (const rel of relationships) {
      const byRecord = await this.links(serializer, rel, [...links.keys()], fail);
      for (const [record, link] of byRecord) links.get(record)?.push([rel.name, link.json]);
      if (sideloads && rel.sideload) await this.sideload(serializer, rel, byRecord, fail, loaded);
    }
    for (const [id, record] of records) {
      const own = links.get(record);
      if (own === undefined) {
        records.delete(id);
        continue;
      }
      record.links = own;
      record.sideloads = loaded.get(record) ?? [];
    }
  }

  private async links(serializer: PreparedSerializer, rel: RelationshipConfig, owners: readonly ShapedRecord[], fail: (r: ShapedRecord, e: RelayError) => void): Promise<Map<ShapedRecord, Link>> {
    const result = new Map<ShapedRecord, Link>();
    const encoding = (record: ShapedRecord, err: unknown): void => {
      if (!(err instanceof EncodingError)) throw err;
      fail(record, new RelayError('ENCODING_FAILED', `cannot encode the link ${rel.name} of ${serializer.model.name} ${record.text('id') ?? ''}: ${err.message}`, { cause: err }));
    };
    const source = rel.source;
    if (source.kind === 'column') {
      for (const record of owners) {
        try {
          result.set(record, columnLink(rel, record, source.column, source.typeColumn));
        } catch (err) {
          encoding(record, err);
        }
      }
      return result;
    }
    const statement = this.statements.get(rel);
    if (statement === undefined) throw new Error(`relationship ${rel.path} was not prepared`);
    const ownerIds = [...new Set(owners.map((r) => r.text('id') as string))];
    const { results, failures } = await runIsolating(
      ownerIds,
      (ids) => queryText(this.pool, statement.name, statement.text, ids),
      (err) => statementError(err, `relationship ${rel.name} of ${serializer.model.name} (${rel.path}.sql)`, { model: serializer.model.name }),
    );
    // Rows by owner, in the statement's order (a has_many's ids keep it).
    const byOwner = new Map<string, Array<{ id: string; idJson: string; type: string | undefined; typeJson: string }>>();
    for (const res of results) {
      const column = (name: string): number => res.fields.findIndex((f) => f.name === name);
      const [ownerAt, idAt, typeAt] = [column('owner_id'), column('id'), column('type')];
      const types = await this.catalog.describe(res.fields);
      const codecs = types.map((t) => codecFor(t)).map((c) => ('codec' in c ? c.codec : undefined));
      for (const row of res.rows) {
        const owner = row[ownerAt];
        const id = row[idAt];
        if (owner === null || owner === undefined || id === null || id === undefined) continue;
        const key = idKey(codecs[ownerAt], owner);
        const type = typeAt === -1 ? undefined : (row[typeAt] ?? undefined);
        const entry = { id, idJson: (codecs[idAt] as ColumnCodec).json(id, 'id'), type, typeJson: type === undefined ? 'null' : (codecs[typeAt] as ColumnCodec).json(type, 'type') };
        byOwner.set(key, [...(byOwner.get(key) ?? []), entry]);
      }
    }
    for (const record of owners) {
      const ownerId = record.text('id') as string;
      const failure = failures.get(ownerId);
      if (failure !== undefined) {
        fail(record, failure);
        continue;
      }
      const rows = byOwner.get(idKey(serializer.idCodec, ownerId)) ?? [];
      const first = rows[0];
      const json =
        rel.kind === 'has_many'
          ? `[${rows.map((r) => r.idJson).join(',')}]`
          : first === undefined
            ? 'null'
            : rel.polymorphic
              ? `{"type":${first.typeJson},"id":${first.idJson}}`
              : first.idJson;
      const targets = (rel.kind === 'has_many' ? rows : rows.slice(0, 1)).map((r) => ({ id: r.id, type: r.type }));
      result.set(record, { json, targets });
    }
    return result;
  }

  /** Loads the related records of one sideloaded relationship for every owner, with one query per serializer. */
  private async sideload(
    serializer: PreparedSerializer,
    rel: RelationshipConfig,
    byRecord: ReadonlyMap<ShapedRecord, Link>,
    fail: (r: ShapedRecord, e: RelayError) => void,
    loaded: Map<ShapedRecord, Array<readonly [string, SideloadValue]>>,
  ): Promise<void> {
    const wanted = new Map<PreparedSerializer, Set<string>>();
    const targetOf = (t: LinkTarget): PreparedSerializer | undefined => this.lookup(serializer.topic, t.type ?? rel.model ?? '');
    for (const [record, link] of byRecord) {
      for (const t of link.targets) {
        const target = targetOf(t);
        if (target === undefined) {
          fail(record, new RelayError('RECORD_INVALID', `${rel.path}: no serializer for ${t.type ?? rel.model ?? '?'} to sideload ${serializer.model.name}'s ${rel.name} with (publish it on this topic or declare it under serializers:)`));
          continue;
        }
        wanted.set(target, (wanted.get(target) ?? new Set()).add(t.id));
      }
    }
    const results = new Map<PreparedSerializer, Rows>();
    for (const [target, ids] of wanted) {
      const rows = await this.rows(target, [...ids]);
      await this.complete(target, rows.records, rows.failures, false);
      results.set(target, rows);
    }
    for (const [record, link] of byRecord) {
      const found: ShapedRecord[] = [];
      let failure: RelayError | undefined;
      for (const t of link.targets) {
        const target = targetOf(t);
        const rows = target === undefined ? undefined : results.get(target);
        failure ??= rows?.failures.get(t.id);
        const related = rows?.records.get(t.id);
        if (related !== undefined) found.push(related);
      }
      if (failure !== undefined) fail(record, failure);
      else loaded.get(record)?.push([rel.name, rel.kind === 'has_many' ? found : (found[0] ?? null)]);
    }
  }
}

function idKey(codec: ColumnCodec | undefined, text: string): string {
  return codec?.idKey === undefined ? text : codec.idKey(text);
}

/** A link read from the owner's own columns. Throws EncodingError. */
function columnLink(rel: RelationshipConfig, record: ShapedRecord, column: string, typeColumn: string | undefined): Link {
  const text = record.text(column) ?? null;
  const codec = record.codec(column) as ColumnCodec;
  if (rel.kind === 'has_many') {
    // The gem reads `<singular>_ids`: a NULL array column is nil there too.
    if (text === null) return { json: 'null', targets: [] };
    const flat = (items: PgArray): string[] => items.flatMap((i) => (i === null ? [] : typeof i === 'string' ? [i] : flat(i)));
    return { json: codec.json(text, column), targets: flat(parsePgArray(text, ',', column)).map((id) => ({ id, type: undefined })) };
  }
  if (text === null) return { json: 'null', targets: [] };
  if (typeColumn === undefined) return { json: codec.json(text, column), targets: [{ id: text, type: undefined }] };
  const type = record.text(typeColumn) ?? null;
  const typeJson = type === null ? 'null' : (record.codec(typeColumn) as ColumnCodec).json(type, typeColumn);
  return { json: `{"type":${typeJson},"id":${codec.json(text, column)}}`, targets: type === null ? [] : [{ id: text, type }] };
}
