import { readFileSync } from 'node:fs';
import type { BenchResult } from './report';

/**
 * `node build/bench/markdown.js RESULT.json`: the figures of a result file as Markdown tables,
 * for docs/benchmarks.md (so the document quotes the file instead of retyping numbers).
 */
function main(file: string): string {
  const r = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  const s = r.scenarios;
  const out: string[] = [];
  const m = r.machine;
  out.push(`Result \`${file.replace(/^.*\//, '')}\` — \`${r.command}\`, relay ${r.relayRevision.commit}${r.relayRevision.srcDirty ? ' (+ uncommitted src changes)' : ''}, ${r.durationSeconds} s.`);
  out.push('');
  out.push(`Machine: ${m.cores} vCPU ${m.cpuModel}, ${m.memoryGiB} GiB, Linux ${m.kernel}; Node ${m.node}; PostgreSQL ${m.postgres} ` +
    `(${Object.entries(m.postgresSettings).map(([k, v]) => `${k}=${v}`).join(', ')}); Kafka ${m.kafka} (KRaft, 1 broker); librdkafka ${m.librdkafka} ` +
    `(node-rdkafka ${m.nodeRdkafka}); pg ${m.pg}.`);
  out.push('');
  if (r.loadAverage !== undefined) out.push(`Load average (1/5/15 min): ${r.loadAverage.start.join(' / ')} at the start, ${r.loadAverage.end.join(' / ')} at the end.`, '');
  out.push(`Relay settings: batch ${r.relaySettings.batchSize}, ${r.relaySettings.maxInflightBatches} batches in flight, poll ${r.relaySettings.pollIntervalMs} ms, pool ${r.relaySettings.poolSize}` +
    `${Object.keys(r.relaySettings.librdkafka).length > 0 ? `, librdkafka ${JSON.stringify(r.relaySettings.librdkafka)}` : ''}. History ${r.fixture.historyRows} rows.`);
  out.push('');
  out.push('| scenario | rows/s (spawn→exit) | rows/s (published_at span) | relay CPU s/1k rows | its PG backends CPU s/1k rows | peak RSS MiB | CPU not ours (s) / wall (s) |');
  out.push('|---|---|---|---|---|---|---|');
  const drains = [
    ['drain (1 relay)', s.drain],
    ['scale-out (2 relays)', s.scaleOut],
    ['drain of an `ordering: strict` topic, gem indexes only', s.strict?.withoutIndex],
    ['drain of an `ordering: strict` topic, + strict_retry_index', s.strict?.withIndex],
    ['drain under --cpu-prof', s.profiledDrain],
  ] as const;
  for (const [name, d] of drains) {
    if (!d) continue;
    out.push(`| ${name}, ${d.rows} rows | ${d.rowsPerSecondWall} | ${d.rowsPerSecondSpan} | ${d.relayCpuSecondsPer1000Rows} | ${d.relayPostgresCpuSecondsPer1000Rows} | ${d.relayPeakRssMiB} | ${d.cpu.unattributed} / ${d.cpu.wallSeconds} |`);
  }
  if (s.ceilingPostgres) {
    const c = s.ceilingPostgres;
    out.push(`| ceiling: claim + markPublished only (batch ${c.batchSize}, ${c.connections} conns) | ${c.rowsPerSecond} | ${c.rowsPerSecondSpan} | – | ${c.postgresCpuSecondsPer1000Rows} | – | ${c.cpu.unattributed} / ${c.cpu.wallSeconds} |`);
  }
  if (s.ceilingKafka) {
    const c = s.ceilingKafka;
    out.push(`| ceiling: librdkafka produce only (${c.valueBytes} B, dr_cb) | ${c.messagesPerSecond} msg/s | – | ${Math.round((c.cpu.harness / c.messages) * 1e6) / 1000} (producer process) | – | – | ${c.cpu.unattributed} / ${c.cpu.wallSeconds} |`);
  }
  out.push('');
  if (s.burst.length > 0) {
    out.push('| burst | rows (rows/tx) | first commit → last append s | rows/s | relay CPU µs/row | its PG backends µs/row | broker µs/row | all PG µs/row | commit→ack p50 / p99 ms | CPU not ours (s) / wall (s) |');
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    for (const b of s.burst) {
      out.push(`| ${b.shape} transactions | ${b.rows} (${b.rowsPerTransaction}) | ${b.commitToLastAppendSeconds} | ${b.rowsPerSecond} | ${b.relayCpuMicrosPerRow} | ${b.relayPostgresCpuMicrosPerRow} | ${b.brokerCpuMicrosPerRow} | ${b.postgresCpuMicrosPerRow} | ${b.commitToAckMs.p50} / ${b.commitToAckMs.p99} | ${b.cpu.unattributed} / ${b.cpu.wallSeconds} |`);
    }
    out.push('');
  }
  if (s.schemaCost) {
    const c = s.schemaCost;
    // Deleted rows leave no published_at: spawn to exit is the rate all three have.
    out.push('| outbox schema | rows/s (spawn→exit) | all PostgreSQL CPU µs/row | relay backends CPU µs/row | relay CPU µs/row | CPU not ours (s) / wall (s) |');
    out.push('|---|---|---|---|---|---|');
    for (const [name, d, pg] of [
      ["the gem's eight indexes", c.gemIndexes, c.postgresCpuMicrosPerRow.gemIndexes],
      ['the publishing index only', c.publishingIndexOnly, c.postgresCpuMicrosPerRow.publishingIndexOnly],
      ["the gem's eight indexes, RELAY_ON_PUBLISH=delete", c.onPublishDelete, c.postgresCpuMicrosPerRow.onPublishDelete],
    ] as const) {
      out.push(`| ${name} | ${d.rowsPerSecondWall} | ${pg} | ${Math.round(d.relayPostgresCpuSecondsPer1000Rows * 10_000) / 10} | ${Math.round(d.relayCpuSecondsPer1000Rows * 10_000) / 10} | ${d.cpu.unattributed} / ${d.cpu.wallSeconds} |`);
    }
    out.push('');
    out.push(`Per convenience index (${c.droppedIndexes.length} dropped): ${c.perIndexMicrosPerRow} µs of the relay's PostgreSQL backends' CPU per published row.`);
    out.push('');
  }
  if (s.live.length > 0) {
    out.push('| live load | generator achieved rows/s (rows/tx) | commit→ack p50 / p95 / p99 / max ms | kept up | pending max, slope/s | relay CPU s/1k rows | its PG CPU s/1k | app commit p50 ms | CPU not ours (s) / wall (s) |');
    out.push('|---|---|---|---|---|---|---|---|---|');
    for (const l of s.live) {
      const d = l.commitToAckMs;
      out.push(`| ${l.offeredRate}/s × ${l.seconds} s${l.notifyTrigger ? ', NOTIFY trigger' : ''} | ${l.generator.achievedRate} (${l.generator.rowsPerTransaction}) | ${d.p50} / ${d.p95} / ${d.p99} / ${d.max} | ${l.keptUp ? 'yes' : 'no'} | ${l.pending.max}, ${l.pending.slopeRowsPerSecond} | ${l.relayCpuSecondsPer1000Rows} | ${l.relayPostgresCpuSecondsPer1000Rows} | ${l.generator.commitMsP50} | ${l.cpu.unattributed} / ${l.cpu.wallSeconds} |`);
    }
    out.push('');
  }
  if (s.sweep.length > 0) {
    out.push('| sweep point | rows/s (span) | rows/s (spawn→exit) | relay CPU s/1k | its PG CPU s/1k | broker CPU s | mean ms per batch claim / load / produce / mark | CPU not ours (s) |');
    out.push('|---|---|---|---|---|---|---|---|');
    for (const d of s.sweep) {
      const p = d.relayProcesses[0]?.phases?.meanMs ?? {};
      out.push(`| ${Object.entries(d.env).map(([k, v]) => `${k}=${v}`).join(' ') || 'defaults'} | ${d.rowsPerSecondSpan} | ${d.rowsPerSecondWall} | ${d.relayCpuSecondsPer1000Rows} | ${d.relayPostgresCpuSecondsPer1000Rows} | ${d.cpu.broker} | ${p['claim'] ?? '–'} / ${p['load'] ?? '–'} / ${p['produce'] ?? '–'} / ${p['mark'] ?? '–'} | ${d.cpu.unattributed} |`);
    }
    out.push('');
  }
  out.push('| target | wanted | measured | met |');
  out.push('|---|---|---|---|');
  for (const t of r.targets) out.push(`| ${t.name} | ${t.target} | ${t.actual} | ${t.met === null ? '–' : t.met ? 'yes' : '**no**'} |`);
  return out.join('\n');
}

process.stdout.write(`${main(process.argv[2] ?? '')}\n`);
