import type { Statement } from './statement';

/**
 * Genesis (backfill): the progress table (sql/002) and the paging of a model's ids.
 *
 * Progress is written only after a page was delivered, and only while the run is `running`, so a
 * page can never be recorded on a run that someone marked otherwise meanwhile.
 */
export function genesisRunStatements(table: string) {
  return {
    // A new run, written only once its target, serializer and topics were checked (no run is left
    // behind by a mistake); its id names the run for --resume.
    create: {
      name: 'dionysus_relay_genesis_create',
      text: `INSERT INTO ${table} (topic, model, options, total_estimate)
             VALUES ($1, $2, $3::jsonb, $4) RETURNING *`,
    },
    // --resume: the run as its last session left it (last_id: the last page Kafka acknowledged).
    find: { name: 'dionysus_relay_genesis_find', text: `SELECT * FROM ${table} WHERE id = $1::bigint` },
    // A resumed session starts clean: no error, no finish time, maybe a new pace (options).
    resume: {
      name: 'dionysus_relay_genesis_resume',
      text: `UPDATE ${table} SET status = 'running', error = NULL, finished_at = NULL, options = $2::jsonb, updated_at = now()
              WHERE id = $1::bigint`,
    },
    // After a page's every message was acknowledged, and only while the run is running.
    recordPage: {
      name: 'dionysus_relay_genesis_record_page',
      text: `UPDATE ${table} SET last_id = $2, sent = sent + $3, skipped = skipped + $4, updated_at = now()
                  WHERE id = $1::bigint AND status = 'running'`,
    },
    // How a session ended: done, interrupted (resumable) or failed (with the error, resumable).
    finish: {
      name: 'dionysus_relay_genesis_finish',
      text: `UPDATE ${table} SET status = $2, error = $3, finished_at = now(), updated_at = now() WHERE id = $1::bigint`,
    },
    // One session per run: a two-key advisory lock on the table's qualified name (so runs of two
    // schemas never collide) and the run id. Session-level, on a connection kept for the whole
    // session; a process killed with -9 loses it with its connection.
    tryLock: {
      name: 'dionysus_relay_genesis_try_lock',
      text: `SELECT pg_try_advisory_lock(hashtext($1), ($2::bigint % 2147483647)::int) AS locked`,
    },
    unlock: { name: 'dionysus_relay_genesis_unlock', text: `SELECT pg_advisory_unlock(hashtext($1), ($2::bigint % 2147483647)::int)` },
  } satisfies Record<string, Statement>;
}

/**
 * Keyset pagination over the ids of a (quoted) relation: `WHERE id > $last ORDER BY id LIMIT n`
 * walks the primary-key index and costs the same on page 1 and page 10,000 (OFFSET would rescan
 * everything before the page). `where` holds the filters and the `id >` bound, written by the id
 * source with placeholders up to `$<limitParameter - 1>`. The text form gets its own name:
 * `ORDER BY id` must sort by the column, not by its text.
 */
export function idPage(relation: string, where: string, limitParameter: number): Statement {
  return { name: 'dionysus_relay_genesis_id_page', text: `SELECT id::text AS id_text FROM ${relation} WHERE ${where} ORDER BY id LIMIT $${limitParameter}` };
}

/** How many ids a run will examine (an estimate: rows come and go while it runs). */
export function idCount(relation: string, where: string): Statement {
  return { name: 'dionysus_relay_genesis_id_count', text: `SELECT count(*) AS n FROM ${relation} WHERE ${where}` };
}
