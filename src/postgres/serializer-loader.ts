import type { Pool, QueryResult } from 'pg';
import type { IdType, ModelConfig, TopicsConfig } from '../config/topics-types';
import { RecordShape, type RecordData } from '../domain/record-shape';
import { RelayError, errorMessage } from '../errors';
import { ID_COLUMN_TYPE, viewSerializer } from './catalog-sql';
import { quoteRelation } from './identifiers';
import { isInfrastructureError, isStatementTimeout, sqlState } from './pg-errors';
import { prepared } from './statement';
import { JSON_TYPE_OIDS, relayTypes } from './type-parsers';

/** A model's serializer, resolved against the live database at start. */
interface PreparedSerializer {
  readonly name: string;
  readonly text: string;
  readonly idType: IdType | undefined;
  /** The last result shape seen (a statement's columns only change if the schema does). */
  shape?: { readonly signature: string; readonly shape: RecordShape };
}

/** Result of loading one (topic, model) group: records by resource id, or a failure per id. */
export interface LoadResult {
  readonly records: Map<string, RecordData>;
  readonly failures: Map<string, RelayError>;
}

const UUID_TYPES = new Set(['uuid']);
const INTEGER_TYPES = new Set(['bigint', 'integer', 'smallint']);

/**
 * Runs the configured serializer statements: one query per (topic, model) and batch, with `$1`
 * the array of the batch's resource ids. Runs on pool connections outside the claim's transaction,
 * so a failing serializer can never abort the transaction that holds the batch's row locks.
 */
export class SerializerLoader {
  private readonly prepared = new Map<string, PreparedSerializer>();

  constructor(
    private readonly pool: Pool,
    private readonly topics: TopicsConfig,
  ) {}

  /**
   * Resolves every serializer once at start: views get their id type from the catalog, every
   * statement is run with an empty id array to prove it parses and returns an `id` column.
   * Problems are collected and thrown together, each naming the YAML key.
   */
  async prepare(): Promise<void> {
    const problems: string[] = [];
    let index = 0;
    for (const topic of this.topics.topics) {
      for (const model of topic.models.values()) {
        index += 1;
        let problem: string | undefined;
        try {
          const serializer = await this.resolve(model, `dionysus_relay_serializer_${index}`);
          const result = await this.pool.query({ text: serializer.text, values: [[]], rowMode: 'array', types: relayTypes });
          if (result.fields.some((f) => f.name === 'id')) this.prepared.set(groupKey(topic.name, model.name), serializer);
          else problem = 'the serializer returns no `id` column (the record needs it, and rows are matched by it)';
        } catch (err) {
          if (sqlState(err) === undefined || isInfrastructureError(err)) {
            throw new RelayError('POSTGRES_UNAVAILABLE', `cannot check serializers: ${errorMessage(err)}`, { cause: err, retriable: true });
          }
          problem = errorMessage(err);
        }
        if (problem !== undefined) problems.push(`${this.topics.file}: ${model.path}: ${problem}`);
      }
    }
    if (problems.length > 0) {
      throw new RelayError('TOPICS_FILE_INVALID', problems.join('\n'), { context: { file: this.topics.file, problems } });
    }
  }

  idType(topicName: string, modelName: string): IdType | undefined {
    return this.prepared.get(groupKey(topicName, modelName))?.idType;
  }

  /**
   * Loads the records of `ids`. When the statement fails for the group, each id is retried alone
   * so that one bad record fails only its own rows. Infrastructure errors are thrown: the batch is
   * abandoned, not its rows.
   */
  async load(topicName: string, modelName: string, ids: readonly string[]): Promise<LoadResult> {
    const serializer = this.prepared.get(groupKey(topicName, modelName));
    if (serializer === undefined) throw new Error(`serializer for ${modelName} on ${topicName} was not prepared`);
    const records = new Map<string, RecordData>();
    const failures = new Map<string, RelayError>();
    try {
      collect(serializer, await this.run(serializer, ids), records);
      return { records, failures };
    } catch (err) {
      if (isInfrastructureError(err)) throw err;
      if (ids.length === 1) {
        failures.set(ids[0] as string, serializerError(err, modelName, topicName));
        return { records, failures };
      }
    }
    for (const id of ids) {
      try {
        collect(serializer, await this.run(serializer, [id]), records);
      } catch (err) {
        if (isInfrastructureError(err)) throw err;
        failures.set(id, serializerError(err, modelName, topicName));
      }
    }
    return { records, failures };
  }

  private run(serializer: PreparedSerializer, ids: readonly string[]): Promise<QueryResult<unknown[]>> {
    // Rails-form parsers for serializer results only; the relay's own bookkeeping queries keep
    // node-postgres' defaults.
    return this.pool.query<unknown[]>({ name: serializer.name, text: serializer.text, values: [ids], rowMode: 'array', types: relayTypes });
  }

  private async resolve(model: ModelConfig, name: string): Promise<PreparedSerializer> {
    if (model.source.kind === 'sql') return { name, text: model.source.sql, idType: model.idType };
    // A view is queried by its own id type so the underlying primary-key index is usable
    // (comparing a bigint column with text would cast every row).
    const view = model.source.view;
    const result = await this.pool.query<{ type: string }>(prepared(ID_COLUMN_TYPE, [view]));
    const type = result.rows[0]?.type;
    if (type === undefined) throw Object.assign(new Error(`view ${view} does not exist or has no id column`), { code: '42P01' });
    const inferred: IdType = INTEGER_TYPES.has(type) ? 'integer' : UUID_TYPES.has(type) ? 'uuid' : 'string';
    return { name, text: viewSerializer(quoteRelation(view), type), idType: model.idType ?? inferred };
  }
}

function collect(serializer: PreparedSerializer, result: QueryResult<unknown[]>, into: Map<string, RecordData>): void {
  const shape = shapeOf(serializer, result);
  const idIndex = result.fields.findIndex((f) => f.name === 'id');
  for (const values of result.rows) {
    into.set(String(values[idIndex]), shape.record(values));
  }
}

/** The compiled shape of a result, reused while the statement returns the same columns. */
function shapeOf(serializer: PreparedSerializer, result: QueryResult<unknown[]>): RecordShape {
  const signature = result.fields.map((f) => `${f.name}\u0000${f.dataTypeID}`).join('\u0001');
  if (serializer.shape?.signature !== signature) {
    serializer.shape = { signature, shape: new RecordShape(result.fields.map((f) => ({ name: f.name, json: JSON_TYPE_OIDS.has(f.dataTypeID) }))) };
  }
  return serializer.shape.shape;
}

function serializerError(err: unknown, modelName: string, topicName: string): RelayError {
  const timeout = isStatementTimeout(err);
  return new RelayError(
    timeout ? 'SERIALIZER_TIMEOUT' : 'SERIALIZER_FAILED',
    `serializer of ${modelName} on ${topicName}: ${errorMessage(err)}`,
    { cause: err, retriable: true, context: { model: modelName, topic: topicName } },
  );
}

function groupKey(topicName: string, modelName: string): string {
  return `${topicName}\u0000${modelName}`;
}
