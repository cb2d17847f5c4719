import { writeFileSync } from 'node:fs';

/**
 * Preloaded into relay children (`node -r build/bench/relay-probe.js ...`): when the process exits,
 * writes its own getrusage (user and system CPU of every thread, librdkafka's included, and peak
 * RSS) to BENCH_PROBE_FILE. Exact where sampling /proc would miss the last interval. Does nothing
 * else and changes nothing in the relay.
 */
const file = process.env['BENCH_PROBE_FILE'];
if (file !== undefined && file !== '') {
  process.on('exit', (code) => {
    const usage = process.resourceUsage();
    writeFileSync(
      file,
      JSON.stringify({
        code,
        exitedAtMs: Date.now(),
        userCpuSeconds: usage.userCPUTime / 1e6,
        systemCpuSeconds: usage.systemCPUTime / 1e6,
        maxRssMiB: usage.maxRSS / 1024,
      }),
    );
  });
}
