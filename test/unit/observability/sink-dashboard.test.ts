import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { SinkMetrics } from '../../../src/observability/sink-metrics';

/**
 * The chart's sink dashboard reads only series a sink exports, with labels those series carry:
 * a renamed metric or label fails here instead of leaving an empty panel in Grafana.
 */

const DASHBOARD = join(__dirname, '..', '..', '..', '..', 'helm', 'dionysus-relay', 'dashboards', 'dionysus-relay-sink.json');
/** Series Prometheus adds itself, and the labels its targets and histograms carry. */
const FROM_PROMETHEUS = new Set(['up']);
const PROMETHEUS_LABELS = new Set(['le', 'instance', 'job', 'namespace']);

function queries(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) queries(item, out);
  } else if (node !== null && typeof node === 'object') {
    if ('type' in node && node.type === 'datasource') return out; // its query names a plugin, not a series
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'expr' || key === 'query' || key === 'definition') && typeof value === 'string') out.push(value);
      else queries(value, out);
    }
  }
  return out;
}

function labelNamesOf(registry: Registry, series: string): readonly string[] | undefined {
  const base = series.replace(/_(bucket|sum|count)$/, '');
  const metric = registry.getSingleMetric(series) ?? registry.getSingleMetric(base);
  if (metric === undefined) return undefined;
  return 'labelNames' in metric && Array.isArray(metric.labelNames) ? (metric.labelNames as string[]) : [];
}

test('every query of the sink dashboard names series and labels a sink exports', () => {
  const registry = new Registry();
  new SinkMetrics(registry, { topics: ['t'], tables: ['users'], buildInfo: { version: '0', node: 'v20', librdkafka: '2' } });
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid?: string; panels?: unknown[]; templating?: unknown };
  assert.equal(dashboard.uid, 'dionysus-relay-sink');
  const all = queries(dashboard);
  assert.ok(all.length > 20, `only ${all.length} queries found`);

  for (const q of all) {
    const series = [...q.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*\{/g), ...q.matchAll(/label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)/g)].map((m) => m[1] as string);
    assert.ok(series.length > 0, `no series in: ${q}`);
    const labels = new Set<string>();
    for (const name of series) {
      if (FROM_PROMETHEUS.has(name)) continue;
      const own = labelNamesOf(registry, name);
      assert.ok(own !== undefined, `the dashboard reads ${name}, which a sink does not export: ${q}`);
      for (const label of own) labels.add(label);
    }
    for (const m of q.matchAll(/\bby \(([^)]*)\)/g)) {
      for (const label of (m[1] as string).split(',').map((l) => l.trim())) {
        assert.ok(labels.has(label) || PROMETHEUS_LABELS.has(label), `grouping by ${label}, which ${series.join(', ')} lacks: ${q}`);
      }
    }
  }
});
