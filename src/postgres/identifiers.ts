/**
 * Identifiers written into SQL text (the configured schema and tables, views named in the topics
 * YAML) go through these functions and nowhere else: double quotes around each part, an embedded
 * quote doubled, so a name is taken literally whatever characters it holds.
 */

/** One identifier: `users` → `"users"`, `we"ird` → `"we""ird"`. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table` as a quoted pair. */
export function qualifiedTable(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}

/** A relation named as the topics YAML writes it, `view` or `schema.view`: each part quoted. */
export function quoteRelation(dotted: string): string {
  return dotted.split('.').map(quoteIdent).join('.');
}
