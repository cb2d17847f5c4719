import { parseArgs } from 'node:util';

export const FAULT_TYPES = ['relay-kill', 'kafka-stop', 'postgres-restart', 'relay-freeze', 'sink-kill'] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

export type Scale = 'ci' | 'full';

/** Everything one run of the fault suite depends on; printed at the start so a run can be replayed. */
export interface FaultSuiteOptions {
  readonly scale: Scale;
  readonly seed: number;
  /** Resources per model (two models, each on its own topic). */
  readonly resourcesPerModel: number;
  readonly writers: number;
  /** Target commits per second of each writer. */
  readonly writesPerSecond: number;
  readonly relays: number;
  /** Sink processes (one consumer group) keeping synced copies of both topics. */
  readonly sinks: number;
  /** How long faults are injected while the writers write (at least one fault of each type is always injected). */
  readonly faultSeconds: number;
  /** Pause between two faults, drawn from [min, max]. */
  readonly gapMinMs: number;
  readonly gapMaxMs: number;
  readonly faultTypes: readonly FaultType[];
  readonly partitions: number;
  /** Relay settings that matter for the faults. */
  readonly batchSize: number;
  readonly idleInTransactionTimeoutMs: number;
  /** Below the idle timeout, so queued messages expire before the locks go (docs/reliability.md). */
  readonly deliveryTimeoutMs: number;
  /** Deadline for "every row published" after the writers stop. */
  readonly settleTimeoutMs: number;
  /** Keep schema, topics and relay logs even when every check passed. */
  readonly keep: boolean;
  readonly jsonFile: string | undefined;
}

const SCALES: Record<Scale, Omit<FaultSuiteOptions, 'scale' | 'seed' | 'faultTypes' | 'keep' | 'jsonFile'>> = {
  // Under ~4 minutes with one Kafka restart (~15-25 s) and one of each other fault.
  ci: {
    resourcesPerModel: 100,
    writers: 2,
    writesPerSecond: 60,
    relays: 3,
    sinks: 2,
    faultSeconds: 60,
    gapMinMs: 2000,
    gapMaxMs: 5000,
    partitions: 4,
    batchSize: 50,
    idleInTransactionTimeoutMs: 5000,
    deliveryTimeoutMs: 4000,
    settleTimeoutMs: 120_000,
  },
  full: {
    resourcesPerModel: 200,
    writers: 4,
    writesPerSecond: 50,
    relays: 3,
    sinks: 2,
    faultSeconds: 420,
    gapMinMs: 2000,
    gapMaxMs: 8000,
    partitions: 4,
    batchSize: 50,
    idleInTransactionTimeoutMs: 5000,
    deliveryTimeoutMs: 4000,
    settleTimeoutMs: 180_000,
  },
};

export const USAGE = `usage: node build/test/faults/run.js [--scale ci|full] [--seed N] [--fault-seconds S]
       [--resources N] [--writers N] [--rate N] [--relays N] [--faults ${FAULT_TYPES.join(',')}]
       [--keep] [--json FILE]
  --scale       ci (default, < 4 min) or full (longer, more faults: the figures of docs/reliability.md)
  --seed        replays a run's fault schedule and writer choices (printed at the start of every run)
  --resources   resources per model (two models on two topics)
  --rate        commits per second of each writer
  --faults      the fault types to inject (default: all; none = writers and relays only, a baseline)
  --keep        keep the schema, the topics and the relay logs even when every check passes
  --json        also write the results as JSON to FILE
env: TEST_DATABASE_URL, TEST_KAFKA_BROKERS (as for the integration tests),
     FAULTS_SERVICES_SCRIPT (default scripts/services.sh: the script that stops/starts the services)`;

export function parseOptions(argv: readonly string[]): FaultSuiteOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scale: { type: 'string' },
      seed: { type: 'string' },
      'fault-seconds': { type: 'string' },
      resources: { type: 'string' },
      writers: { type: 'string' },
      rate: { type: 'string' },
      relays: { type: 'string' },
      faults: { type: 'string' },
      keep: { type: 'boolean' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const scale = (values.scale ?? 'ci') as Scale;
  if (!(scale in SCALES)) throw new Error(`--scale must be ci or full, got ${values.scale}`);
  const base = SCALES[scale];
  const faultTypes = values.faults === undefined ? [...FAULT_TYPES] : values.faults === 'none' ? [] : values.faults.split(',').map((f) => f.trim());
  for (const f of faultTypes) {
    if (!(FAULT_TYPES as readonly string[]).includes(f)) throw new Error(`--faults: unknown fault type "${f}" (known: ${FAULT_TYPES.join(', ')})`);
  }
  return {
    ...base,
    scale,
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : positiveInt('--seed', values.seed, true),
    faultSeconds: values['fault-seconds'] === undefined ? base.faultSeconds : positiveInt('--fault-seconds', values['fault-seconds']),
    resourcesPerModel: values.resources === undefined ? base.resourcesPerModel : positiveInt('--resources', values.resources),
    writers: values.writers === undefined ? base.writers : positiveInt('--writers', values.writers),
    writesPerSecond: values.rate === undefined ? base.writesPerSecond : positiveInt('--rate', values.rate),
    relays: values.relays === undefined ? base.relays : positiveInt('--relays', values.relays),
    faultTypes: faultTypes as FaultType[],
    keep: values.keep === true,
    jsonFile: values.json,
  };
}

function positiveInt(flag: string, text: string, zeroAllowed = false): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < (zeroAllowed ? 0 : 1)) throw new Error(`${flag} must be a ${zeroAllowed ? 'non-negative' : 'positive'} integer, got "${text}"`);
  return n;
}
