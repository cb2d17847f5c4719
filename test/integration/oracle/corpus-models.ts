// The oracle's models, declared once and written twice: as the relay's topics YAML (SQL
// statements) and as the Ruby oracle's ActiveRecord models and gem-style serializers (ActiveRecord
// associations). The two sides share only the declaration (attribute names in order, relationship
// names and kinds), never how values are read or written.
import { SAMPLE_COLUMNS } from './corpus-schema';

interface RubyAssociation {
  readonly macro: 'belongs_to' | 'has_one' | 'has_many' | 'ids_column';
  readonly options?: Readonly<Record<string, unknown>>;
  readonly order?: string;
  readonly class_name?: string;
  readonly column?: string;
}

export interface OracleRelationship {
  readonly name: string;
  /** The YAML of the relationship (has_one / has_many / polymorphic, column or sql, sideload). */
  readonly yaml: Readonly<Record<string, string | boolean>>;
  /** How the gem's serializer reads the link: `<name>_id`, a polymorphic override, `<singular>_ids`... */
  readonly link: 'foreign_key' | 'polymorphic' | 'has_one' | 'ids';
  readonly association: RubyAssociation;
  readonly sideload: boolean;
}

export interface OracleModel {
  readonly name: string;
  readonly table: string;
  /** The id's SQL type, for `$1::<type>[]`. */
  readonly idType: string;
  /** Declared attributes, in order (the serializer's sent columns). */
  readonly attributes: readonly string[];
  /** Columns read for links or the partition key only. */
  readonly hidden?: readonly string[];
  readonly relationships: readonly OracleRelationship[];
}

const has = (kind: 'has_one' | 'has_many', model: string, extra: Record<string, string | boolean> = {}): Record<string, string | boolean> => ({ [kind]: model, ...extra });

export const MODELS: readonly OracleModel[] = [
  { name: 'Sample', table: 'samples', idType: 'bigint', attributes: ['id', ...SAMPLE_COLUMNS.map(([n]) => n), 'created_at', 'updated_at'], hidden: ['account_id'], relationships: [] },
  { name: 'Account', table: 'accounts', idType: 'bigint', attributes: ['id', 'name', 'plan', 'created_at', 'updated_at'], relationships: [] },
  {
    name: 'User', table: 'users', idType: 'bigint',
    attributes: ['id', 'account_id', 'name', 'balance', 'ratio', 'active', 'born', 'prefs', 'note', 'created_at', 'updated_at'],
    relationships: [
      { name: 'account', yaml: has('has_one', 'Account', { sideload: true }), link: 'foreign_key', association: { macro: 'belongs_to', options: { class_name: 'Account' } }, sideload: true },
      {
        name: 'profile', yaml: has('has_one', 'Profile', { sql: 'SELECT user_id AS owner_id, id FROM profiles WHERE user_id = ANY($1::bigint[]) ORDER BY id' }),
        link: 'has_one', association: { macro: 'has_one', options: { class_name: 'Profile', foreign_key: 'user_id' } }, sideload: false,
      },
    ],
  },
  { name: 'Profile', table: 'profiles', idType: 'bigint', attributes: ['id', 'bio'], relationships: [] },
  {
    name: 'Booking', table: 'bookings', idType: 'bigint', attributes: ['id', 'account_id', 'final_price', 'created_at', 'updated_at'],
    relationships: [
      { name: 'account', yaml: has('has_one', 'Account'), link: 'foreign_key', association: { macro: 'belongs_to', options: { class_name: 'Account' } }, sideload: false },
      {
        name: 'bookings_fees', yaml: has('has_many', 'BookingsFee', { sql: 'SELECT booking_id AS owner_id, id FROM bookings_fees WHERE booking_id = ANY($1::bigint[]) ORDER BY id', sideload: true }),
        link: 'ids', association: { macro: 'has_many', options: { class_name: 'BookingsFee', foreign_key: 'booking_id' }, order: 'id' }, sideload: true,
      },
      {
        name: 'bookings_taxes', yaml: has('has_many', 'BookingsTax', { sql: 'SELECT booking_id AS owner_id, id FROM bookings_taxes WHERE booking_id = ANY($1::bigint[]) ORDER BY id DESC', sideload: true }),
        link: 'ids', association: { macro: 'has_many', options: { class_name: 'BookingsTax', foreign_key: 'booking_id' }, order: 'id DESC' }, sideload: true,
      },
    ],
  },
  {
    name: 'BookingsFee', table: 'bookings_fees', idType: 'bigint', attributes: ['id', 'amount', 'details', 'created_at', 'updated_at'], hidden: ['booking_id'],
    relationships: [{ name: 'booking', yaml: has('has_one', 'Booking'), link: 'foreign_key', association: { macro: 'belongs_to', options: { class_name: 'Booking' } }, sideload: false }],
  },
  { name: 'BookingsTax', table: 'bookings_taxes', idType: 'bigint', attributes: ['id', 'name', 'rate'], relationships: [] },
  {
    name: 'Comment', table: 'comments', idType: 'bigint', attributes: ['id', 'body', 'created_at', 'updated_at'], hidden: ['subject_type', 'subject_id', 'about_type', 'about_id'],
    relationships: [
      { name: 'subject', yaml: { polymorphic: true, sideload: true }, link: 'polymorphic', association: { macro: 'belongs_to', options: { polymorphic: true } }, sideload: true },
      { name: 'about', yaml: { polymorphic: true }, link: 'polymorphic', association: { macro: 'belongs_to', options: { polymorphic: true } }, sideload: false },
    ],
  },
  { name: 'Tag', table: 'tags', idType: 'bigint', attributes: ['id', 'label'], relationships: [] },
  {
    name: 'Post', table: 'posts', idType: 'bigint', attributes: ['id', 'title', 'created_at', 'updated_at'], hidden: ['tag_ids'],
    relationships: [{ name: 'tags', yaml: has('has_many', 'Tag', { column: 'tag_ids', sideload: true }), link: 'ids', association: { macro: 'ids_column', class_name: 'Tag', column: 'tag_ids' }, sideload: true }],
  },
  { name: 'Device', table: 'devices', idType: 'uuid', attributes: ['id', 'name'], relationships: [] },
  { name: 'Code', table: 'codes', idType: 'text', attributes: ['id', 'label'], relationships: [] },
  { name: 'Price', table: 'prices', idType: 'numeric', attributes: ['id', 'amount'], relationships: [] },
];

/** Topic key → [partition count, partition attribute, published models]. */
export const TOPICS: ReadonlyMap<string, readonly [number, string, readonly string[]]> = new Map([
  ['samples', [4, 'account_id', ['Sample']]],
  ['users', [6, 'account_id', ['User']]],
  ['bookings', [8, 'account_id', ['Booking']]],
  ['comments', [3, 'id', ['Comment', 'Post']]],
  ['keys', [5, 'id', ['Device', 'Code', 'Price']]],
] as const);

const model = (name: string): OracleModel => MODELS.find((m) => m.name === name) as OracleModel;

function serializerYaml(m: OracleModel, indent: string, nested: boolean): string {
  const columns = [...m.attributes, ...(m.hidden ?? [])].join(', ');
  const lines = [`sql: "SELECT ${columns} FROM ${m.table} WHERE id = ANY($1::${m.idType}[])"`];
  if (m.hidden !== undefined) lines.push(`hidden_columns: [${m.hidden.join(', ')}]`);
  if (m.relationships.length > 0) {
    lines.push('relationships:');
    for (const r of m.relationships) {
      const entries = Object.entries(r.yaml).filter(([k]) => !(nested && k === 'sideload'));
      lines.push(`  ${r.name}: { ${entries.map(([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`).join(', ')} }`);
    }
  }
  return lines.map((l) => `${indent}${l}`).join('\n');
}

/** The relay's topics file for the corpus. */
export function topicsYaml(namespace: string): string {
  const published = new Set([...TOPICS.values()].flatMap(([, , models]) => models));
  const topics = [...TOPICS].map(([key, [, partitionKey, models]]) => {
    const body = models.map((name) => {
      const deps = name === 'Booking'
        ? `\n        dependencies:\n          BookingsFee:\n            parents_sql: SELECT id AS dependency_id, booking_id AS parent_id FROM bookings_fees WHERE id = ANY($1::bigint[])\n            parent_from_changeset: booking_id`
        : '';
      return `      ${name}:\n${serializerYaml(model(name), '        ', false)}${deps}`;
    });
    return `  ${key}:\n    partition_key: ${partitionKey}\n    models:\n${body.join('\n')}`;
  });
  const serializers = MODELS.filter((m) => !published.has(m.name) || m.name === 'Booking' || m.name === 'User').map(
    (m) => `  ${m.name}:\n${serializerYaml(m, '    ', true)}`,
  );
  return `namespace: ${namespace}\ntopics:\n${topics.join('\n')}\nserializers:\n${serializers.join('\n')}\n`;
}

/** The Ruby oracle's view of the models. */
export function rubyModels(): Record<string, unknown> {
  return Object.fromEntries(
    MODELS.map((m) => [
      m.name,
      {
        table: m.table,
        attributes: m.attributes,
        relationships: m.relationships.map((r) => ({ name: r.name, kind: r.yaml['has_many'] !== undefined ? 'has_many' : 'has_one', link: r.link, association: r.association })),
      },
    ]),
  );
}

/** What the gem includes (sideloads) when publishing a model of a topic: its sideloaded relationships in order. */
export function includesOf(name: string): string[] {
  return model(name).relationships.filter((r) => r.sideload).map((r) => r.name);
}
