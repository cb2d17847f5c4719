import type { Pool } from 'pg';
import type { ModelConfig, TopicConfig, TopicsConfig } from '../config/topics-types';
import type { ColumnCodec } from '../domain/column-types/codec';
import { codecFor } from '../domain/column-types/type-mapping';
import type { IdType } from '../domain/model-types';
import type { RecordData, RecordShape, ShapedRecord } from '../domain/record-shape';
import { checkSerializerColumns, type SerializerDeclaration } from '../domain/serializer-columns';
import { RelayError, errorMessage } from '../errors';
import { ID_COLUMN_TYPE, viewSerializer } from './catalog-sql';
import { quoteRelation } from './identifiers';
import { isInfrastructureError, sqlState } from './pg-errors';
import { RelationshipLoader } from './relationship-loader';
import { prepared } from './statement';
import { queryText, runIsolating, statementError, type TextResult } from './text-query';
import { TypeCatalog, type ResultField } from './type-catalog';

/** A model's serializer, resolved against the live database. */
export interface PreparedSerializer {
  readonly model: ModelConfig;
  /** The topic it is published on; undefined for a `serializers:` entry (sideloads only). */
  readonly topic: TopicConfig | undefined;
  readonly statementName: string;
  readonly text: string;
  readonly declaration: SerializerDeclaration;
  idType: IdType;
  /** The compiled columns, for the result signature they were compiled from. */
  signature: string;
  shape: RecordShape;
  idIndex: number;
  idCodec: ColumnCodec;
}

/** Result of loading one (topic, model) group: records by requested id, or a failure per id. */
export interface LoadResult {
  readonly records: Map<string, RecordData>;
  readonly failures: Map<string, RelayError>;
}

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8', 'oid', 'numeric(p,0)']);

/**
 * Runs the configured serializers: one query per (topic, model) and batch with `$1` the array of
 * the batch's resource ids, plus one query per relationship (see RelationshipLoader). Values are
 * read as text and written by the codec of their type as ActiveRecord + ActiveSupport would.
 * Runs on pool connections outside the claim's transaction, so a failing serializer can never
 * abort the transaction that holds the batch's row locks.
 */
export class SerializerLoader {
  private readonly prepared = new Map<string, PreparedSerializer>();
  private readonly catalog: TypeCatalog;
  private readonly relationships: RelationshipLoader;
  private warningList: string[] = [];

  constructor(
    private readonly pool: Pool,
    private readonly topics: TopicsConfig,
  ) {
    this.catalog = new TypeCatalog(pool);
    this.relationships = new RelationshipLoader(pool, this.catalog, (topic, model) => this.lookup(topic, model), (s, ids) => this.rows(s, ids));
  }

  /** What `check` reports and `run` logs without refusing to start (a partition attribute not returned). */
  get warnings(): readonly string[] {
    return this.warningList;
  }

  /**
   * Resolves every serializer once at start: views get their id type from the catalog, every
   * statement is run with an empty id array to learn its columns and their types, and the columns
   * are checked against the declaration. Problems are collected and thrown together, each naming
   * the YAML key.
   */
  async prepare(): Promise<void> {
    const problems: string[] = [];
    const warnings: string[] = [];
    const entries: Array<[TopicConfig | undefined, ModelConfig]> = [
      ...this.topics.topics.flatMap((t) => [...t.models.values()].map((m): [TopicConfig, ModelConfig] => [t, m])),
      ...[...this.topics.serializers.values()].map((m): [undefined, ModelConfig] => [undefined, m]),
    ];
    for (const [index, [topic, model]] of entries.entries()) {
      try {
        const statementName = `dionysus_relay_serializer_${index + 1}`;
        const text = await this.statementText(model);
        const declaration = declare(model, topic);
        const result = await queryText(this.pool, statementName, text, []);
        const compiled = await this.compile(declaration, model.idType, result.fields);
        warnings.push(...compiled.warnings.map((w) => `${this.topics.file}: ${w}`));
        if (compiled.problems.length > 0) problems.push(...compiled.problems.map((p) => `${this.topics.file}: ${p}`));
        else this.prepared.set(groupKey(topic?.name, model.name), { model, topic, statementName, text, declaration, ...(compiled.compiled as Compiled) });
      } catch (err) {
        if (sqlState(err) === undefined || isInfrastructureError(err)) {
          throw new RelayError('POSTGRES_UNAVAILABLE', `cannot check serializers: ${errorMessage(err)}`, { cause: err, retriable: true });
        }
        problems.push(`${this.topics.file}: ${model.path}: ${errorMessage(err)}`);
      }
    }
    if (problems.length === 0) problems.push(...(await this.relationships.prepare([...this.prepared.values()])).map((p) => `${this.topics.file}: ${p}`));
    this.warningList = warnings;
    if (problems.length > 0) {
      throw new RelayError('TOPICS_FILE_INVALID', problems.join('\n'), { context: { file: this.topics.file, problems } });
    }
  }

  /** The primary key's type: as configured, else from the serializer's id column. */
  idType(topicName: string, modelName: string): IdType | undefined {
    return this.prepared.get(groupKey(topicName, modelName))?.idType;
  }

  /**
   * Loads the complete records of `ids` (attributes, links, sideloads), keyed by the ids as given:
   * a row matches an id by value (`42` matches a numeric key `42.0`), not by text.
   */
  async load(topicName: string, modelName: string, ids: readonly string[]): Promise<LoadResult> {
    const serializer = this.prepared.get(groupKey(topicName, modelName));
    if (serializer === undefined) throw new Error(`serializer for ${modelName} on ${topicName} was not prepared`);
    const { records, failures } = await this.rows(serializer, ids);
    await this.relationships.complete(serializer, records, failures, true);
    return { records: records as Map<string, RecordData>, failures };
  }

  /** The serializer of `model` for a sideload from `topic`: the topic's own model, else `serializers:`. */
  private lookup(topic: TopicConfig | undefined, model: string): PreparedSerializer | undefined {
    return (topic === undefined ? undefined : this.prepared.get(groupKey(topic.name, model))) ?? this.prepared.get(groupKey(undefined, model));
  }

  /** The serializer's rows for `ids` (attributes only), by requested id. */
  private async rows(serializer: PreparedSerializer, ids: readonly string[]): Promise<{ records: Map<string, ShapedRecord>; failures: Map<string, RelayError> }> {
    const { model } = serializer;
    const context = { model: model.name, ...(serializer.topic === undefined ? {} : { topic: serializer.topic.name }) };
    const what = `serializer of ${model.name}${serializer.topic === undefined ? '' : ` on ${serializer.topic.name}`}`;
    const { results, failures } = await runIsolating(
      ids,
      async (some) => this.ensureShape(serializer, await queryText(this.pool, serializer.statementName, serializer.text, some)),
      (err) => statementError(err, what, context),
    );
    const byKey = new Map<string, ShapedRecord>();
    for (const result of results) {
      for (const values of result.rows) {
        const id = values[serializer.idIndex];
        if (id !== null && id !== undefined) byKey.set(idKeyOf(serializer.idCodec, id), serializer.shape.record(values));
      }
    }
    const records = new Map<string, ShapedRecord>();
    for (const id of ids) {
      const record = byKey.get(idKeyOf(serializer.idCodec, id));
      if (record !== undefined && !failures.has(id)) records.set(id, record);
    }
    return { records, failures };
  }

  /** Recompiles the shape when the statement's columns changed (the schema did); throws RelayError when they no longer fit. */
  private async ensureShape(serializer: PreparedSerializer, result: TextResult): Promise<TextResult> {
    if (signatureOf(result.fields) === serializer.signature) return result;
    const compiled = await this.compile(serializer.declaration, serializer.model.idType, result.fields);
    if (compiled.compiled === undefined) {
      throw new RelayError('RECORD_INVALID', `the columns of ${serializer.model.name}'s serializer changed: ${compiled.problems.join('; ')}`, { retriable: true });
    }
    Object.assign(serializer, compiled.compiled);
    return result;
  }

  private async compile(declaration: SerializerDeclaration, configured: IdType | undefined, fields: readonly ResultField[]): Promise<{ compiled: Compiled | undefined; problems: string[]; warnings: string[] }> {
    const types = await this.catalog.describe(fields);
    const columns = fields.map((f, i) => ({ name: f.name, typeName: types[i]?.name ?? String(f.dataTypeID), choice: codecFor(types[i] as NonNullable<(typeof types)[number]>) }));
    const check = checkSerializerColumns(declaration, columns);
    if (check.shape === undefined) return { compiled: undefined, problems: check.problems, warnings: check.warnings };
    const idIndex = fields.findIndex((f) => f.name === 'id');
    const idCodec = check.shape.columns[check.shape.index('id') as number]?.codec as ColumnCodec;
    const inferred: IdType = INTEGER_TYPES.has(idCodec.type) ? 'integer' : idCodec.type === 'numeric' ? 'decimal' : idCodec.type === 'uuid' ? 'uuid' : 'string';
    return { compiled: { signature: signatureOf(fields), shape: check.shape, idIndex, idCodec, idType: configured ?? inferred }, problems: [], warnings: check.warnings };
  }

  private async statementText(model: ModelConfig): Promise<string> {
    if (model.source.kind === 'sql') return model.source.sql;
    // A view is queried by its own id type so the underlying primary-key index is usable
    // (comparing a bigint column with text would cast every row).
    const view = model.source.view;
    const result = await this.pool.query<{ type: string }>(prepared(ID_COLUMN_TYPE, [view]));
    const type = result.rows[0]?.type;
    if (type === undefined) throw Object.assign(new Error(`view ${view} does not exist or has no id column`), { code: '42P01' });
    return viewSerializer(quoteRelation(view), type);
  }
}

type Compiled = Pick<PreparedSerializer, 'signature' | 'shape' | 'idIndex' | 'idCodec' | 'idType'>;

function declare(model: ModelConfig, topic: TopicConfig | undefined): SerializerDeclaration {
  const dependencies = topic === undefined ? [] : [...topic.dependencies.values()].flat().filter((d) => d.parentModel === model.name).map((d) => d.name);
  return {
    model: model.name,
    path: model.path,
    relationships: model.relationships,
    hiddenColumns: model.hiddenColumns,
    jsonAttributes: model.jsonAttributes,
    partitionKey: topic === undefined ? undefined : model.partitionKey,
    dependencies,
  };
}

function idKeyOf(codec: ColumnCodec, text: string): string {
  return codec.idKey === undefined ? text : codec.idKey(text);
}

function signatureOf(fields: readonly ResultField[]): string {
  return fields.map((f) => `${f.name}\u0000${f.dataTypeID}\u0000${f.dataTypeModifier}`).join('\u0001');
}

function groupKey(topicName: string | undefined, modelName: string): string {
  return `${topicName ?? ''}\u0000${modelName}`;
}
