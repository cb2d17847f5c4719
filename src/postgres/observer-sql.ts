import type { Statement } from './statement';

/**
 * An observer's related records, read a page at a time (keyset pagination on the related `id`):
 * a fan-out of any size costs the relay one page of ids in memory, and each page is one short
 * query that walks only what is after the previous page's last id. `sql` is the observer's own
 * statement from the topics YAML ($1 = the observed ids); it is wrapped, never changed. Runtime
 * text, so run unprepared (statement.ts).
 * - `id IS NOT NULL`: a null id names no record (and would end the keyset walk);
 * - `ORDER BY id`, then `id > $2` on the next page: ids are compared by the column's own type
 *   (the parameter is inferred from it), the order ORDER BY used, so no id is skipped or repeated
 *   between pages (an id the statement returns twice may come twice within one page);
 * - each page is its own statement on the pool: a record created between two pages may be left
 *   out, and needs no republishing, since its creation wrote an outbox row of its own.
 */
function related(sql: string): string {
  return `SELECT related.id FROM (${sql.trim().replace(/;+\s*$/, '')}) AS related WHERE related.id IS NOT NULL`;
}

/** The first `$2` related ids of observed ids `$1`, in id order. */
export function observerFirstPage(sql: string): Statement {
  return { name: 'dionysus_relay_observer_first_page', text: `${related(sql)} ORDER BY related.id LIMIT $2` };
}

/** The next `$3` related ids after id `$2`, in id order. */
export function observerNextPage(sql: string): Statement {
  return { name: 'dionysus_relay_observer_next_page', text: `${related(sql)} AND related.id > $2 ORDER BY related.id LIMIT $3` };
}
