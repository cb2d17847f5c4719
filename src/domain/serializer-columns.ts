// A serializer's result columns checked against its declaration, pure: which columns are sent,
// which types the relay refuses, and what configurations written for the old model (json columns
// taken for sideloads, a `links` column) must now say instead.
import type { ColumnCodec } from './column-types/codec';
import type { CodecChoice } from './column-types/type-mapping';
import { modelSingular } from './message-key';
import type { RelationshipConfig } from './model-types';
import { RecordShape, type ShapeColumn } from './record-shape';

export interface SerializerDeclaration {
  readonly model: string;
  /** YAML path of the model, for messages. */
  readonly path: string;
  readonly relationships: readonly RelationshipConfig[];
  readonly hiddenColumns: readonly string[];
  readonly jsonAttributes: readonly string[];
  /** The published model's partition attribute; undefined for a serializer used only for sideloads. */
  readonly partitionKey: string | undefined;
  /** Dependency class names of the model (the gem's `with:`), whose json columns were sideloads. */
  readonly dependencies: readonly string[];
}

export interface ResultColumn {
  readonly name: string;
  /** pg_type name, for messages. */
  readonly typeName: string;
  readonly choice: CodecChoice;
}

export interface SerializerCheck {
  readonly shape: RecordShape | undefined;
  readonly problems: string[];
  readonly warnings: string[];
}

/** Ruby's plural for the usual Rails names (`bookings_fee` → `bookings_fees`, `tax` → `taxes`). */
function plural(singular: string): string {
  if (/[^aeiou]y$/.test(singular)) return `${singular.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(singular)) return `${singular}es`;
  return `${singular}s`;
}

export function checkSerializerColumns(decl: SerializerDeclaration, columns: readonly ResultColumn[]): SerializerCheck {
  const problems: string[] = [];
  const warnings: string[] = [];
  const at = (what: string): string => `${decl.path}: ${what}`;
  const names = new Set<string>();
  const hidden = new Set(decl.hiddenColumns);
  const sideloads = new Set(decl.relationships.filter((r) => r.sideload).map((r) => r.name));
  const dependencyNames = new Map(decl.dependencies.flatMap((d) => [modelSingular(d), plural(modelSingular(d))].map((n) => [n, d] as const)));
  const shapeColumns: ShapeColumn[] = [];
  for (const column of columns) {
    if (names.has(column.name)) problems.push(at(`the serializer returns two columns named ${column.name}; a record has one value per attribute`));
    names.add(column.name);
    if ('refused' in column.choice) {
      problems.push(at(`column ${column.name} (${column.typeName}) cannot be sent as Rails would send it: ${column.choice.refused}`));
      continue;
    }
    const codec: ColumnCodec = column.choice.codec;
    const sent = !hidden.has(column.name);
    shapeColumns.push({ name: column.name, codec, sent });
    if (!sent) continue;
    if (column.name === 'links') {
      problems.push(
        at(
          'the serializer returns a column `links`: links are no longer read from a column. Declare each relationship under ' +
            '`relationships:` (e.g. `account: {has_one: Account}`, `bookings_fees: {has_many: BookingsFee, sql: ...}`; see docs/topics.md) and drop the column',
        ),
      );
    } else if (sideloads.has(column.name)) {
      problems.push(at(`column ${column.name} has the name of a sideloaded relationship; the sideload is written after links, so drop the column (or list it in hidden_columns)`));
    } else if ((codec.type === 'json' || codec.type === 'jsonb') && dependencyNames.has(column.name) && !decl.jsonAttributes.includes(column.name)) {
      const dependency = dependencyNames.get(column.name) as string;
      problems.push(
        at(
          `column ${column.name} (${codec.type}) is named like the dependency ${dependency}: json columns are attributes now, sent in their column position, ` +
            `no longer sideloads after links. To sideload ${dependency} as the gem does, declare \`relationships: {${column.name}: {has_many: ${dependency}, ` +
            `sql: 'SELECT <foreign key> AS owner_id, id FROM ... WHERE <foreign key> = ANY($1) ORDER BY id', sideload: true}}\` with a serializer for ` +
            `${dependency} under \`serializers:\`, and drop the column; to send it as an attribute, list it in \`json_attributes: [${column.name}]\``,
        ),
      );
    }
  }
  for (const name of decl.hiddenColumns) if (!names.has(name)) problems.push(at(`hidden_columns names ${name}, which the serializer does not return`));
  if (!names.has('id')) problems.push(at('the serializer returns no `id` column (the record needs it, and rows are matched by it)'));
  for (const rel of decl.relationships) {
    if (rel.source.kind !== 'column') continue;
    for (const column of [rel.source.column, rel.source.typeColumn]) {
      if (column !== undefined && !names.has(column)) problems.push(`${rel.path}: the serializer returns no column ${column} for this relationship's link (add it, in hidden_columns if it is not an attribute)`);
    }
  }
  if (decl.partitionKey !== undefined) {
    const column = shapeColumns.find((c) => c.name === decl.partitionKey);
    if (column === undefined && names.has(decl.partitionKey) === false) {
      warnings.push(
        at(
          `the partition attribute ${decl.partitionKey} is not among the serializer's columns: rows without a partition_key are partitioned by the message key, ` +
            `where the gem would use the model's ${decl.partitionKey} (return the column, in hidden_columns if it is not sent)`,
        ),
      );
    } else if (column !== undefined && column.codec.toI === undefined) {
      problems.push(at(`the partition attribute ${decl.partitionKey} is a ${column.codec.type}, which has no to_i in Ruby: the gem cannot compute a partition key from it`));
    }
  }
  return { shape: problems.length === 0 ? new RecordShape(shapeColumns) : undefined, problems, warnings };
}
