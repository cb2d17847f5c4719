-- Optional, for topics with `ordering: strict`: a small partial index on the rows that wait for a
-- retry. Apply with `dionysus-relay migrate --with strict_retry_index`.
--
-- Why: a strict claim must skip every key whose older row failed and waits for its retry
-- (retrying_keys in the strict claim, src/postgres/claim-sql.ts). No index of the gem's schema has
-- retry_at, so without this one each strict claim reads every pending row of its topic, as much
-- again as the rest of the claim on a large backlog. With it the claim reads only the rows waiting
-- for a retry (usually none). docs/benchmarks.md has the figures.
--
-- What it costs: a row enters the index only when a publish fails (retry_at set, published_at
-- NULL) and leaves it when it is published or given up (retry_at = infinity), so the index stays
-- as small as the set of failing rows. It changes nothing for the gem or for topics without strict
-- ordering. The predicate must keep implying the strict claim's (`published_at IS NULL`,
-- `retry_at > now`, `retry_at <> 'infinity'`), or the planner cannot use it; the claim-plan test
-- checks that it does.
--
-- This file runs inside a transaction, so CREATE INDEX locks out the table's writes while it
-- reads the table once (0.2 s for the benchmark's 1.3M rows). On a large, busy table, create it
-- by hand first with the same statement and CONCURRENTLY; the migration then finds it and only
-- records itself.
CREATE INDEX IF NOT EXISTS dionysus_relay_retry_waiting_idx
  ON dionysus_outboxes (topic, retry_at)
  WHERE published_at IS NULL AND retry_at IS NOT NULL AND retry_at <> 'infinity';
