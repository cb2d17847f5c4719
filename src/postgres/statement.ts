/**
 * Every SQL statement of the relay is a Statement defined in one of the postgres/*-sql.ts modules,
 * next to a comment on the invariant or race it guards. Names are unique across the relay (a unit
 * test collects them all): they name the prepared statement on each connection that runs it, so
 * two texts under one name would fail at run time.
 */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/** The query of `statement` with `values`, run as a named prepared statement. */
export function prepared(statement: Statement, values: unknown[] = []): { name: string; text: string; values: unknown[] } {
  return { name: statement.name, text: statement.text, values };
}

/**
 * The query of a statement whose text is built from runtime input (a relation from the topics
 * YAML, a user's serializer, a set of filters): run unnamed, so texts that differ never meet under
 * one prepared name.
 */
export function unprepared(statement: Statement, values: unknown[] = []): { text: string; values: unknown[] } {
  return { text: statement.text, values };
}
