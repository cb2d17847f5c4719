import { isMap, isScalar, type Node as YamlNode } from 'yaml';
import type { LinkSource, RelationshipConfig } from '../domain/model-types';
import type { DependencyConfig, IdType, ModelConfig } from './topics-types';
import type { YamlWalker } from './yaml-walker';

const TOPIC_MODEL_KEYS = [
  'sql', 'view', 'id_type', 'partition_key', 'dependencies', 'table', 'soft_delete_column',
  'relationships', 'hidden_columns', 'json_attributes',
] as const;
const SERIALIZER_KEYS = ['sql', 'view', 'id_type', 'relationships', 'hidden_columns', 'json_attributes'] as const;
const RELATIONSHIP_KEYS = ['has_one', 'has_many', 'polymorphic', 'column', 'type_column', 'sql', 'sideload'] as const;
const DEPENDENCY_KEYS = ['parents_sql', 'parent_from_changeset'] as const;
const ID_TYPES: readonly IdType[] = ['integer', 'decimal', 'uuid', 'string'];
export const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const CLASS_NAME = /^[A-Z][A-Za-z0-9_]*(::[A-Z][A-Za-z0-9_]*)*$/;
const VIEW_NAME = /^([A-Za-z_][A-Za-z0-9_]*\.)?[A-Za-z_][A-Za-z0-9_]*$/;

/** Values a model inherits when it does not set them itself. */
export interface ModelDefaults {
  readonly partitionKey: string;
  readonly softDeleteColumn: string;
}

/**
 * A model's serializer: `topics.<t>.models.<Class>` (a published model, `defaults` given) or
 * `serializers.<Class>` (a model that is only sideloaded, `defaults` undefined).
 */
export function parseModel(w: YamlWalker, base: readonly string[], name: string, keyNode: YamlNode, defaults: ModelDefaults | undefined): ModelConfig | undefined {
  const path = base.join('.');
  if (!CLASS_NAME.test(name)) {
    w.fail(keyNode, path, 'a model is named by its class name, e.g. User or Admin::User');
    return undefined;
  }
  const node = w.node(base);
  if (!isMap(node)) {
    w.fail(node ?? keyNode, path, 'must be a map with `sql` or `view`');
    return undefined;
  }
  w.checkKeys(node, path, defaults === undefined ? SERIALIZER_KEYS : TOPIC_MODEL_KEYS);
  const key = (k: string): string[] => [...base, k];
  const sql = w.optionalString(key('sql'), `${path}.sql`, '');
  const view = w.optionalString(key('view'), `${path}.view`, '');
  const idTypeText = w.optionalString(key('id_type'), `${path}.id_type`, '');
  const partitionKey = w.optionalString(key('partition_key'), `${path}.partition_key`, defaults?.partitionKey ?? 'id');
  const table = w.optionalString(key('table'), `${path}.table`, '');
  const softDeleteColumn = w.optionalString(key('soft_delete_column'), `${path}.soft_delete_column`, defaults?.softDeleteColumn ?? 'canceled_at');
  if ((sql === '') === (view === '')) {
    w.fail(node, path, 'needs exactly one of `sql` (a statement taking $1, the array of ids) or `view`');
    return undefined;
  }
  checkStatement(w, key('sql'), `${path}.sql`, sql, 'the statement must use $1, the array of resource ids (e.g. WHERE id = ANY($1::bigint[]))');
  if (view !== '' && !VIEW_NAME.test(view)) w.fail(w.node(key('view')), `${path}.view`, 'must be a view name, optionally schema-qualified');
  if (idTypeText !== '' && !ID_TYPES.includes(idTypeText as IdType)) w.fail(w.node(key('id_type')), `${path}.id_type`, `must be one of ${ID_TYPES.join(', ')}`);
  if (!IDENTIFIER.test(partitionKey)) w.fail(w.node(key('partition_key')), `${path}.partition_key`, 'must be an attribute name');
  if (table !== '' && !VIEW_NAME.test(table)) w.fail(w.node(key('table')), `${path}.table`, 'must be a table or view name, optionally schema-qualified');
  if (!IDENTIFIER.test(softDeleteColumn)) w.fail(w.node(key('soft_delete_column')), `${path}.soft_delete_column`, 'must be a column name');
  return {
    name,
    source: sql !== '' ? { kind: 'sql', sql } : { kind: 'view', view },
    idType: idTypeText === '' ? undefined : (idTypeText as IdType),
    partitionKey,
    table: table === '' ? undefined : table,
    softDeleteColumn,
    relationships: parseRelationships(w, key('relationships'), defaults !== undefined),
    hiddenColumns: w.optionalNames(key('hidden_columns'), `${path}.hidden_columns`, IDENTIFIER, 'column names'),
    jsonAttributes: w.optionalNames(key('json_attributes'), `${path}.json_attributes`, IDENTIFIER, 'column names'),
    path,
  };
}

function checkStatement(w: YamlWalker, at: readonly string[], name: string, sql: string, missing: string): void {
  if (sql === '') return;
  if (!/\$1(?!\d)/.test(sql)) w.fail(w.node(at), name, missing);
  if (/\$([2-9]|\d\d)/.test(sql)) w.fail(w.node(at), name, 'the statement may only use $1');
}

/** `relationships:` of a model, in declaration order (the gem's order of `links`). */
function parseRelationships(w: YamlWalker, base: readonly string[], published: boolean): RelationshipConfig[] {
  const path = base.join('.');
  const node = w.node(base);
  if (node === undefined || (isScalar(node) && node.value === null)) return [];
  if (!isMap(node)) {
    w.fail(node, path, 'must be a map of relationship names');
    return [];
  }
  const result: RelationshipConfig[] = [];
  for (const { key: name, node: keyNode } of w.keys(base)) {
    const relBase = [...base, name];
    const relPath = `${path}.${name}`;
    const rel = w.node(relBase);
    if (!IDENTIFIER.test(name) || name === 'links') {
      w.fail(keyNode, relPath, 'a relationship is named like the gem declares it (`account`, `bookings_fees`); `links` is reserved');
      continue;
    }
    if (!isMap(rel)) {
      w.fail(rel ?? keyNode, relPath, 'must be a map with `has_one: Class`, `has_many: Class` or `polymorphic: true`');
      continue;
    }
    w.checkKeys(rel, relPath, RELATIONSHIP_KEYS);
    const hasOne = w.optionalString([...relBase, 'has_one'], `${relPath}.has_one`, '');
    const hasMany = w.optionalString([...relBase, 'has_many'], `${relPath}.has_many`, '');
    const polymorphic = w.optionalBoolean([...relBase, 'polymorphic'], `${relPath}.polymorphic`, false);
    const sideload = w.optionalBoolean([...relBase, 'sideload'], `${relPath}.sideload`, false);
    const column = w.optionalString([...relBase, 'column'], `${relPath}.column`, '');
    const typeColumn = w.optionalString([...relBase, 'type_column'], `${relPath}.type_column`, '');
    const sql = w.optionalString([...relBase, 'sql'], `${relPath}.sql`, '');
    if ([hasOne !== '', hasMany !== '', polymorphic].filter(Boolean).length !== 1) {
      w.fail(rel, relPath, 'needs exactly one of `has_one: Class`, `has_many: Class` or `polymorphic: true` (a has_one whose link is {"type":..,"id":..})');
      continue;
    }
    const model = hasOne !== '' ? hasOne : hasMany !== '' ? hasMany : undefined;
    if (model !== undefined && !CLASS_NAME.test(model)) w.fail(w.node([...relBase, hasOne !== '' ? 'has_one' : 'has_many']), relPath, 'names the related class, e.g. Account');
    if (column !== '' && sql !== '') w.fail(rel, relPath, 'takes its link from `column` or from `sql`, not both');
    if (hasMany !== '' && column === '' && sql === '') {
      w.fail(rel, relPath, 'a has_many needs `sql` (returning owner_id, id) or `column` (an array column of the serializer)');
    }
    if (typeColumn !== '' && !polymorphic) w.fail(w.node([...relBase, 'type_column']), `${relPath}.type_column`, 'only a polymorphic relationship has a type column');
    for (const [k, v] of [['column', column], ['type_column', typeColumn]] as const) {
      if (v !== '' && !IDENTIFIER.test(v)) w.fail(w.node([...relBase, k]), `${relPath}.${k}`, 'must be a column name');
    }
    checkStatement(w, [...relBase, 'sql'], `${relPath}.sql`, sql, 'the statement must use $1, the array of owner ids, and return owner_id and id');
    if (sideload && !published) {
      w.fail(w.node([...relBase, 'sideload']), `${relPath}.sideload`, 'a serializer used only for sideloads cannot sideload in turn: the gem nests one level (its records carry links only)');
    }
    const source: LinkSource =
      sql !== '' ? { kind: 'sql', sql } : { kind: 'column', column: column === '' ? `${name}_id` : column, typeColumn: polymorphic ? (typeColumn === '' ? `${name}_type` : typeColumn) : undefined };
    result.push({ name, kind: hasMany !== '' ? 'has_many' : 'has_one', model, polymorphic, source, sideload, path: relPath });
  }
  return result;
}

/** `dependencies:` of a published model (the gem's `with:`). */
export function parseDependencies(w: YamlWalker, topicKey: string, parentModel: string): DependencyConfig[] {
  const base = ['topics', topicKey, 'models', parentModel, 'dependencies'];
  const path = base.join('.');
  const node = w.node(base);
  if (node === undefined) return [];
  if (!isMap(node)) {
    w.fail(node, path, 'must be a map of dependency class names');
    return [];
  }
  const result: DependencyConfig[] = [];
  for (const { key: name, node: keyNode } of w.keys(base)) {
    const depPath = `${path}.${name}`;
    if (!CLASS_NAME.test(name)) {
      w.fail(keyNode, depPath, 'a dependency is named by its class name, e.g. BookingsFee');
      continue;
    }
    const depNode = w.node([...base, name]);
    if (!isMap(depNode)) {
      w.fail(depNode ?? keyNode, depPath, 'must be a map with `parents_sql`');
      continue;
    }
    w.checkKeys(depNode, depPath, DEPENDENCY_KEYS);
    const parentsSql = w.optionalString([...base, name, 'parents_sql'], `${depPath}.parents_sql`, '');
    if (parentsSql === '' || !/\$1(?!\d)/.test(parentsSql)) {
      w.fail(depNode, `${depPath}.parents_sql`, 'required: a statement taking $1 (dependency ids) and returning dependency_id, parent_id');
      continue;
    }
    const fromChangeset = w.optionalString([...base, name, 'parent_from_changeset'], `${depPath}.parent_from_changeset`, '');
    result.push({ name, parentModel, parentsSql, parentFromChangeset: fromChangeset === '' ? undefined : fromChangeset, path: depPath });
  }
  return result;
}
