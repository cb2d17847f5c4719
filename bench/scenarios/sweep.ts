import type { BenchContext } from '../context';
import { runDrain, type DrainResult } from './drain';

/**
 * The drain under a few relay settings, to find the best knobs: batch size, batches in flight,
 * librdkafka's linger, and V8's young generation size. Each point is a full cold drain of `sizes.sweepRows` rows.
 */
export const SWEEP_POINTS: ReadonlyArray<Readonly<Record<string, string>>> = [
  {},
  { RELAY_BATCH_SIZE: '1000' },
  { RELAY_BATCH_SIZE: '2000' },
  { RELAY_MAX_INFLIGHT_BATCHES: '6' },
  { RELAY_BATCH_SIZE: '1000', RELAY_MAX_INFLIGHT_BATCHES: '6' },
  { RELAY_BATCH_SIZE: '2000', RELAY_MAX_INFLIGHT_BATCHES: '2' },
  { RELAY_BATCH_SIZE: '1000', KAFKA_LIBRDKAFKA: '{"linger.ms":10}' },
  { RELAY_BATCH_SIZE: '1000', KAFKA_LIBRDKAFKA: '{"linger.ms":0}' },
  // Not a relay setting: a larger V8 young generation means fewer scavenges (GC is ~12% of the
  // relay's main thread in the drain profile).
  { RELAY_BATCH_SIZE: '1000', NODE_OPTIONS: '--max-semi-space-size=32' },
];

export async function runSweep(ctx: BenchContext): Promise<DrainResult[]> {
  const results: DrainResult[] = [];
  for (const [i, env] of SWEEP_POINTS.entries()) {
    results.push(await runDrain(ctx, { label: `sweep${i + 1}`, rows: ctx.options.sizes.sweepRows, relays: 1, env, verify: false }));
  }
  return results;
}
