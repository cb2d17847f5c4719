import { parseArgs } from 'node:util';

/**
 * Command line of `npm run bench` and the sizes each mode works with.
 *
 *   --quick            CI-sized run (small history, 20k drain, 10 s of live load at 1k rows/s)
 *   --rebuild-history  drop and regenerate the fixture (history, users, accounts)
 *   --profile          also run one drain under `node --cpu-prof` and summarise the profile
 *   --sweep            also run the drain with a grid of relay settings (batch, in-flight, linger)
 *   --live-notify      also run the live scenario with the optional NOTIFY trigger installed
 *   --only LIST        comma-separated scenarios: drain,burst,schema-cost,live,scaleout,strict,ceiling-pg,ceiling-kafka,sink-drain,sink-live
 *   --burst-rows N     rows of each burst (default 100k, 10k quick)
 *   --set KEY=VALUE    env for every relay child (RELAY_BATCH_SIZE=1000, KAFKA_LIBRDKAFKA=...)
 *   --schema NAME      schema of the fixture (default bench, bench_quick with --quick)
 *   --results-dir DIR  where the JSON result goes (default bench/results)
 *   --drop-schema      drop the schema at the end (CI)
 *   --relay-cli FILE   run this compiled CLI instead of build/src/cli/bin.js (A/B a candidate build)
 *   --rows N           pending rows of the drain, scale-out, strict and ceiling scenarios (default 200k, 20k quick)
 */
export type ScenarioName = 'drain' | 'burst' | 'schema-cost' | 'live' | 'scaleout' | 'strict' | 'ceiling-pg' | 'ceiling-kafka' | 'sink-drain' | 'sink-live';

export const ALL_SCENARIOS: readonly ScenarioName[] = ['ceiling-pg', 'ceiling-kafka', 'drain', 'burst', 'schema-cost', 'scaleout', 'strict', 'live', 'sink-drain', 'sink-live'];

export interface Sizes {
  /** Published rows kept in the table between runs. */
  readonly historyRows: number;
  /** Users (and one outbox row per user in drain sets, so every message key is unique). */
  readonly users: number;
  readonly accounts: number;
  readonly drainRows: number;
  /** Rows committed in each burst (large transactions, then 5-row ones) while the relay idles. */
  readonly burstRows: number;
  /** Offered rates of the live scenario, rows/s, and how long each runs. */
  readonly liveRates: readonly number[];
  readonly liveSeconds: number;
  /** Rows of the settings sweep's drains. */
  readonly sweepRows: number;
  readonly partitions: number;
}

export interface BenchOptions {
  readonly quick: boolean;
  readonly rebuildHistory: boolean;
  readonly profile: boolean;
  readonly sweep: boolean;
  readonly liveNotify: boolean;
  readonly scenarios: readonly ScenarioName[];
  readonly relayEnv: Readonly<Record<string, string>>;
  readonly schema: string;
  readonly resultsDir: string | undefined;
  readonly dropSchema: boolean;
  readonly relayCli: string | undefined;
  readonly sizes: Sizes;
  /** --help was given: print BENCH_USAGE and run nothing. */
  readonly help?: boolean;
}

export const FULL_SIZES: Sizes = {
  historyRows: 1_000_000,
  users: 500_000,
  accounts: 5_000,
  drainRows: 200_000,
  burstRows: 100_000,
  liveRates: [1_000, 5_000],
  liveSeconds: 60,
  sweepRows: 100_000,
  partitions: 6,
};

export const QUICK_SIZES: Sizes = {
  historyRows: 50_000,
  users: 40_000,
  accounts: 500,
  drainRows: 20_000,
  burstRows: 10_000,
  liveRates: [1_000],
  liveSeconds: 10,
  sweepRows: 10_000,
  partitions: 6,
};

/** `npm run bench -- --help`. */
export const BENCH_USAGE = `Usage: npm run bench -- [options]

Runs the relay's benchmark scenarios against the local PostgreSQL and Kafka (start them with
\`npm run services\`), prints a table and writes a JSON result under bench/results/.
See docs/benchmarks.md for what each scenario measures.

Options:
  --quick             CI-sized run: small history, 20k-row drain, 10 s of live load at 1k rows/s
  --only LIST         comma-separated scenarios: drain,burst,schema-cost,live,scaleout,strict,
                      ceiling-pg,ceiling-kafka,sink-drain,sink-live (default: all; burst = rows
                      committed in four large transactions, then in 5-row ones, while a relay idles;
                      schema-cost = three drains: the gem's eight indexes, the publishing index
                      alone, RELAY_ON_PUBLISH=delete; strict = two
                      drains of an ordering: strict
                      topic, without and with the optional index of sql/optional/strict_retry_index.sql;
                      sink-drain = the sink applying a topic the relay filled, sink-live = commit to
                      the consumer's table under the live load, at the live rates)
  --live-rates LIST   offered rates of the live scenario, rows/s (default 1000,5000; 1000 with --quick)
  --live-seconds N    how long each live rate is offered (default 60; 10 with --quick)
  --rows N            pending rows of the drain, scale-out, strict and ceiling scenarios
                      (default 200000; 20000 with --quick)
  --burst-rows N      rows of each burst (default 100000; 10000 with --quick)
  --profile           also run one drain under node --cpu-prof and summarise where time goes
  --sweep             also run drains over a grid of relay settings (batch, in-flight, linger)
  --live-notify       also run the live scenario with the optional NOTIFY trigger installed
  --set KEY=VALUE     environment for every relay child, e.g. --set RELAY_BATCH_SIZE=500
                      (repeatable)
  --relay-cli FILE    run this compiled CLI instead of build/src/cli/bin.js (A/B two builds)
  --schema NAME       schema of the fixture (default bench; bench_quick with --quick)
  --rebuild-history   drop and regenerate the fixture (1M-row history, users, accounts)
  --results-dir DIR   where the JSON result goes (default bench/results)
  --drop-schema       drop the fixture's schema at the end (CI)
  --help              this text
`;

/** A bad command line: reported as one line plus a pointer to --help, without a stack. */
export class BenchUsageError extends Error {}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  try {
    return parseValidArgs(argv);
  } catch (err) {
    if (err instanceof BenchUsageError) throw err;
    throw new BenchUsageError(err instanceof Error ? err.message : String(err));
  }
}

function parseValidArgs(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      'rebuild-history': { type: 'boolean' },
      profile: { type: 'boolean' },
      sweep: { type: 'boolean' },
      'live-notify': { type: 'boolean' },
      only: { type: 'string' },
      set: { type: 'string', multiple: true },
      schema: { type: 'string' },
      'results-dir': { type: 'string' },
      'drop-schema': { type: 'boolean' },
      'relay-cli': { type: 'string' },
      rows: { type: 'string' },
      'burst-rows': { type: 'string' },
      'live-rates': { type: 'string' },
      'live-seconds': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return { ...defaultsForHelp(), help: true };
  const quick = values.quick === true;
  const scenarios = values.only === undefined ? ALL_SCENARIOS : parseScenarios(values.only);
  const relayEnv: Record<string, string> = {};
  for (const pair of values.set ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--set expects KEY=VALUE, got "${pair}"`);
    relayEnv[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const schema = values.schema ?? (quick ? 'bench_quick' : 'bench');
  const base = quick ? QUICK_SIZES : FULL_SIZES;
  const rows = values.rows === undefined ? base.drainRows : Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1 || rows > base.users) throw new Error(`--rows must be an integer from 1 to ${base.users}`);
  const burstRows = values['burst-rows'] === undefined ? base.burstRows : Number(values['burst-rows']);
  if (!Number.isInteger(burstRows) || burstRows < 1 || burstRows > base.users - 100) throw new Error(`--burst-rows must be an integer from 1 to ${base.users - 100}`);
  const liveRates = values['live-rates'] === undefined ? base.liveRates : values['live-rates'].split(',').map(Number);
  const liveSeconds = values['live-seconds'] === undefined ? base.liveSeconds : Number(values['live-seconds']);
  if (!Number.isInteger(liveSeconds) || liveSeconds < 1) throw new Error('--live-seconds must be a positive integer');
  if (liveRates.length === 0 || liveRates.some((r) => !Number.isInteger(r) || r < 1)) throw new Error('--live-rates must be a comma-separated list of positive integers (rows/s)');
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`--schema must be a lower-case identifier, got "${schema}"`);
  return {
    quick,
    rebuildHistory: values['rebuild-history'] === true,
    profile: values.profile === true,
    sweep: values.sweep === true,
    liveNotify: values['live-notify'] === true,
    scenarios,
    relayEnv,
    schema,
    resultsDir: values['results-dir'],
    dropSchema: values['drop-schema'] === true,
    relayCli: values['relay-cli'],
    sizes: { ...base, drainRows: rows, burstRows, liveRates, liveSeconds },
  };
}

function defaultsForHelp(): BenchOptions {
  return {
    quick: false, rebuildHistory: false, profile: false, sweep: false, liveNotify: false, scenarios: [], relayEnv: {},
    schema: 'bench', resultsDir: undefined, dropSchema: false, relayCli: undefined, sizes: FULL_SIZES,
  };
}

function parseScenarios(list: string): ScenarioName[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) {
    if (!ALL_SCENARIOS.includes(n as ScenarioName)) {
      throw new Error(`--only: unknown scenario "${n}" (known: ${ALL_SCENARIOS.join(', ')})`);
    }
  }
  return names as ScenarioName[];
}
