// Types shared by the topics configuration and the pure core: what a model's serializer declares
// beyond its statement (the type of its key, its relationships). config/ builds them from YAML;
// domain/ and the loader read them.

/**
 * The primary key's type, which decides how a vanished record's id is written: `integer` as a
 * number, `decimal` (numeric keys) as a BigDecimal string, `uuid` and `string` as text.
 */
export type IdType = 'integer' | 'decimal' | 'uuid' | 'string';

/** Where a relationship's link value comes from. */
export type LinkSource =
  /** A column of the serializer's own result (`account_id`; an array column for has_many). */
  | { readonly kind: 'column'; readonly column: string; readonly typeColumn: string | undefined }
  /**
   * A statement taking $1 = the batch's owner ids, returning `owner_id`, `id` (and `type` for a
   * polymorphic relationship); its order is the order of a has_many's ids.
   */
  | { readonly kind: 'sql'; readonly sql: string };

/**
 * A relationship as the gem's serializer DSL declares it (`has_one :account`, `has_many
 * :bookings_fees`): its link goes into `links` (the id, a list of ids, or `{"type":..,"id":..}`
 * when polymorphic); when sideloaded, the related record(s) follow `links` under the same name,
 * serialized by the related model's own serializer.
 */
export interface RelationshipConfig {
  readonly name: string;
  readonly kind: 'has_one' | 'has_many';
  /** The related model's class name; undefined for a polymorphic relationship (its type says). */
  readonly model: string | undefined;
  readonly polymorphic: boolean;
  readonly source: LinkSource;
  readonly sideload: boolean;
  /** YAML path, for error messages (`topics.bookings.models.Booking.relationships.fees`). */
  readonly path: string;
}
