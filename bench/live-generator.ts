import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';

/**
 * The application side of the live scenario, as a child process of its own (its CPU never counts
 * as the relay's, and the harness's event loop stays free): commits, at a fixed offered rate, small
 * transactions that each update `rowsPerTransaction` users (version + 1, updated_at) and insert
 * their outbox rows, atomically, as a Rails request would. Each transaction is one prepared
 * statement (a data-modifying CTE: one round trip, one commit). Users are taken in order from
 * `firstUser`, so no user changes twice in a run and the message carrying a user's key maps back
 * to exactly one commit.
 *
 * Input: one JSON argument (GeneratorConfig). Output: `outFile` with one `user,outbox_id,commit_ms`
 * line per committed row (commit_ms = epoch ms with fractions, taken when the COMMIT's answer
 * arrived), and a JSON summary on stdout.
 */
export interface GeneratorConfig {
  readonly url: string;
  readonly schema: string;
  readonly topic: string;
  readonly ratePerSecond: number;
  readonly durationSeconds: number;
  readonly firstUser: number;
  readonly users: number;
  readonly connections: number;
  readonly rowsPerTransaction: number;
  readonly outFile: string;
}

export interface GeneratorSummary {
  /** Rows (outbox rows) committed. */
  readonly committed: number;
  readonly transactions: number;
  readonly rowsPerTransaction: number;
  readonly connections: number;
  /** Commit round trip as the generator saw it (statement sent → answer), ms. */
  readonly commitMsP50: number;
  readonly commitMsP99: number;
  readonly failed: number;
  readonly offeredRate: number;
  readonly achievedRate: number;
  readonly seconds: number;
  /** How late transactions started against their schedule (the generator's own backlog), ms. */
  readonly maxStartLagMs: number;
  readonly cpuSeconds: number;
}

const STATEMENT = {
  name: 'bench_generator_update_user',
  text: `WITH u AS (
           UPDATE users SET version = version + 1, updated_at = now() AT TIME ZONE 'UTC'
            WHERE id BETWEEN $1 AND $2 RETURNING id, account_id)
         INSERT INTO dionysus_outboxes (resource_class, resource_id, event_name, topic, partition_key, created_at, updated_at)
         SELECT 'User', u.id::text, 'user_updated', $3, u.account_id::text, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
           FROM u ORDER BY u.id
         RETURNING id, resource_id`,
};

async function main(config: GeneratorConfig): Promise<GeneratorSummary> {
  const total = Math.round(config.ratePerSecond * config.durationSeconds);
  if (total > config.users) throw new Error(`${total} transactions need ${total} distinct users; the fixture has ${config.users}`);
  const pool = new Pool({
    connectionString: config.url,
    max: config.connections,
    application_name: 'dionysus-relay-bench-generator',
    options: `-c search_path=${config.schema},public -c TimeZone=UTC`,
  });
  // Open every connection (and prepare the statement on each) before the clock starts.
  const warm = await Promise.all(Array.from({ length: config.connections }, () => pool.connect()));
  for (const c of warm) c.release();

  const perTx = Math.max(1, config.rowsPerTransaction);
  const transactions = Math.ceil(total / perTx);
  const users = new Int32Array(total);
  const ids = new Float64Array(total);
  const commits = new Float64Array(total);
  const roundTrips: number[] = [];
  let committed = 0;
  let failed = 0;
  let issued = 0;
  let inflight = 0;
  let maxLag = 0;
  const maxInflight = config.connections * 2;
  const txRate = config.ratePerSecond / perTx;
  const cpuStart = process.cpuUsage();
  const start = performance.now();

  await new Promise<void>((resolve) => {
    const issue = (i: number): void => {
      inflight += 1;
      const first = config.firstUser + i * perTx;
      const last = Math.min(config.firstUser + total - 1, first + perTx - 1);
      const sentAt = performance.now();
      pool
        .query<{ id: string; resource_id: string }>({ ...STATEMENT, values: [first, last, config.topic] })
        .then((r) => {
          const now = performance.now();
          roundTrips.push(now - sentAt);
          for (const row of r.rows) {
            users[committed] = Number(row.resource_id);
            ids[committed] = Number(row.id);
            commits[committed] = performance.timeOrigin + now;
            committed += 1;
          }
        })
        .catch(() => {
          failed += last - first + 1;
        })
        .finally(() => {
          inflight -= 1;
          if (issued >= transactions && inflight === 0) resolve();
        });
    };
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(transactions, Math.floor((txRate * (now - start)) / 1000) + 1);
      while (issued < due && inflight < maxInflight) {
        maxLag = Math.max(maxLag, now - (start + (issued * 1000) / txRate));
        issue(issued++);
      }
      if (issued < transactions) setTimeout(tick, 1);
    };
    tick();
  });
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  await pool.end();
  roundTrips.sort((a, b) => a - b);
  const pct = (p: number): number => Math.round((roundTrips[Math.min(roundTrips.length - 1, Math.floor(p * roundTrips.length))] ?? NaN) * 10) / 10;

  const lines: string[] = [];
  for (let i = 0; i < committed; i++) lines.push(`${users[i]},${ids[i]},${(commits[i] as number).toFixed(3)}`);
  writeFileSync(config.outFile, lines.join('\n'));
  return {
    committed,
    transactions,
    rowsPerTransaction: perTx,
    connections: config.connections,
    commitMsP50: pct(0.5),
    commitMsP99: pct(0.99),
    failed,
    offeredRate: config.ratePerSecond,
    achievedRate: Math.round(committed / seconds),
    seconds,
    maxStartLagMs: Math.round(maxLag),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

if (require.main === module) {
  const config = JSON.parse(process.argv[2] ?? '{}') as GeneratorConfig;
  main(config).then(
    (summary) => {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`live generator failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
