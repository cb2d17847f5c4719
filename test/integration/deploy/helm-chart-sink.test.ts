/**
 * The chart running the sink (component: sink): standalone as a Deployment, as a sidecar, and next
 * to the relay in one application pod (examples/sidecar-loop-app, the chart twice under aliases).
 * Rendered with the real Helm 3 of scripts/helm.sh, like helm-chart.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../../src/package-root';

const ROOT = packageRoot();
const CHART = join(ROOT, 'helm', 'dionysus-relay');
const LOOP_APP = join(CHART, 'examples', 'sidecar-loop-app');
const SINK_VALUES = ['--set', 'component=sink', '--set', 'sink.config.client_id=shop', '--set', 'sink.config.topics.users.soft_delete=cancel', '--set', 'sink.config.models.User.table=users'];

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- rendered manifests are untyped YAML

function helmRun(args: string[]): { status: number; out: string; err: string } {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'helm.sh'), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function manifests(args: string[], chart = CHART, release = 'rel'): Obj[] {
  const r = helmRun(['template', release, chart, '--namespace', 'shop', ...args]);
  assert.equal(r.status, 0, r.err);
  return parseAllDocuments(r.out).map((d) => d.toJS() as Obj).filter((m) => m !== null && m !== undefined);
}

const ofKind = (all: Obj[], kind: string): Obj[] => all.filter((m) => m['kind'] === kind);
const envOf = (c: Obj): Map<string, Obj> => new Map((c['env'] as Obj[]).map((e) => [e['name'] as string, e]));
const podOf = (all: Obj[]): Obj => (ofKind(all, 'Deployment')[0] as Obj)['spec']['template'];

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'dionysus-helm-sink-'));
  assert.equal(helmRun(['version', '--short']).status, 0, 'scripts/helm.sh provides helm');
}, { timeout: 15 * 60_000 });
after(() => rmSync(tmp, { recursive: true, force: true }));

test('component: sink runs `sink` with the sink file mounted, its own env, probes and volumes', () => {
  assert.equal(helmRun(['lint', 'helm/dionysus-relay', '--strict', ...SINK_VALUES]).status, 0);
  const all = manifests(SINK_VALUES);
  const configMap = ofKind(all, 'ConfigMap')[0] as Obj;
  assert.deepEqual(Object.keys(configMap['data']), ['sink.yaml']);
  assert.match(configMap['data']['sink.yaml'], /client_id: shop/);
  const pod = podOf(all);
  const [sink] = pod['spec']['containers'] as Obj[];
  assert.equal(sink?.['name'], 'dionysus-sink');
  assert.deepEqual(sink?.['args'], ['sink']);
  const env = envOf(sink as Obj);
  assert.equal(env.get('SINK_FILE')?.['value'], '/etc/dionysus-relay/sink.yaml');
  assert.equal(env.get('SINK_SHUTDOWN_GRACE_MS')?.['value'], '25000');
  for (const relayOnly of ['TOPICS_FILE', 'RELAY_SHUTDOWN_GRACE_MS', 'HEALTH_COMPAT_FILE']) assert.equal(env.has(relayOnly), false, relayOnly);
  assert.ok(env.get('DATABASE_URL')?.['valueFrom']?.['secretKeyRef'], 'the database URL comes from a Secret');
  assert.deepEqual(sink?.['ports'], [{ name: 'sink-metrics', containerPort: 9394, protocol: 'TCP' }]);
  assert.deepEqual(sink?.['livenessProbe']['httpGet'], { path: '/healthz', port: 'sink-metrics' });
  assert.deepEqual(sink?.['readinessProbe']['httpGet'], { path: '/readyz', port: 'sink-metrics' });
  assert.deepEqual((pod['spec']['volumes'] as Obj[]).map((v) => v['name']), ['dionysus-sink-config', 'dionysus-sink-tmp']);
  assert.equal(pod['metadata']['annotations']['checksum/config'], createHash('sha256').update(String(configMap['data']['sink.yaml']).replace(/\n$/, '')).digest('hex'));
  assert.equal((ofKind(all, 'Service')[0] as Obj)['spec']['ports'][0]['targetPort'], 'sink-metrics');

  const tuned = sink === undefined ? undefined : envOf(podOf(manifests([...SINK_VALUES, '--set', 'sink.maxBatchMessages=2000', '--set', 'sink.concurrency=8']))['spec']['containers'][0]);
  assert.equal(tuned?.get('SINK_MAX_BATCH_MESSAGES')?.['value'], '2000');
  assert.equal(tuned?.get('SINK_CONCURRENCY')?.['value'], '8');
});

test('the sink gets its own alerts (lag, dead letters, stopped partitions) and its own dashboard', () => {
  const all = manifests([...SINK_VALUES, '--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.prometheusRule.enabled=true', '--set', 'metrics.grafanaDashboard.enabled=true']);
  const rules = (ofKind(all, 'PrometheusRule')[0] as Obj)['spec']['groups'][0]['rules'] as Obj[];
  assert.deepEqual(rules.map((r) => r['alert']), ['DionysusSinkConsumerLag', 'DionysusSinkDeadLetters', 'DionysusSinkPartitionStopped', 'DionysusSinkDown']);
  const source = readFileSync(join(ROOT, 'src', 'observability', 'sink-metrics.ts'), 'utf8');
  for (const rule of rules) {
    for (const [, name] of String(rule['expr']).matchAll(/dionysus_relay_sink_([a-z_]+)/g)) assert.ok(source.includes(`'${name}'`), `${name} is exported by the sink`);
  }
  const dashboards = ofKind(all, 'ConfigMap').filter((m) => (m as Obj)['metadata']['labels']?.['grafana_dashboard'] === '1') as Obj[];
  assert.equal(dashboards.length, 1, 'one dashboard ConfigMap');
  assert.deepEqual(Object.keys(dashboards[0]?.['data'] ?? {}), ['dionysus-relay-sink.json'], 'the sink dashboard, not the relay one');
  const shipped = JSON.parse(String(dashboards[0]?.['data']['dionysus-relay-sink.json'])) as unknown;
  assert.deepEqual(shipped, JSON.parse(readFileSync(join(ROOT, 'helm', 'dionysus-relay', 'dashboards', 'dionysus-relay-sink.json'), 'utf8')));
});

test('rendering refuses a sink without its file, or with both forms of it, or an unknown component', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--set', 'component=sink'], /sink\.config \(or sink\.configYaml\) is required with component: sink/],
    [[...SINK_VALUES, '--set', 'sink.configYaml=x: 1'], /set either sink\.config .* or sink\.configYaml/],
    // values.schema.json refuses it before any template runs.
    [['--set', 'component=consumer'], /\/component': value must be one of 'relay', 'sink'/],
  ];
  for (const [args, message] of cases) {
    const r = helmRun(['template', 'rel', CHART, ...args]);
    assert.notEqual(r.status, 0);
    assert.match(r.err, message);
  }
});

test('a relay and a sink as sidecars of one application pod (the chart twice, under aliases)', () => {
  const app = join(tmp, 'sidecar-loop-app');
  cpSync(LOOP_APP, app, { recursive: true });
  writeFileSync(join(app, 'Chart.yaml'), readFileSync(join(app, 'Chart.yaml'), 'utf8').replaceAll('file://../..', `file://${CHART}`));
  assert.equal(helmRun(['dependency', 'build', app]).status, 0);
  assert.equal(helmRun(['lint', app, '--strict']).status, 0);
  const all = manifests([], app, 'shop');
  assert.deepEqual(ofKind(all, 'ConfigMap').map((m) => [m['metadata']['name'], Object.keys(m['data'])]), [
    ['shop-relay-config', ['topics.yaml']],
    ['shop-sink-config', ['sink.yaml']],
  ]);
  const pod = podOf(all);
  const containers = pod['spec']['containers'] as Obj[];
  assert.deepEqual(containers.map((c) => [c['name'], c['args'] ?? null]), [
    ['web', null],
    ['dionysus-relay', ['run']],
    ['dionysus-sink', ['sink']],
  ]);
  assert.deepEqual(containers.slice(1).map((c) => [c['ports'][0]['name'], c['ports'][0]['containerPort']]), [
    ['http-metrics', 9394],
    ['sink-metrics', 9395],
  ]);
  const volumes = (pod['spec']['volumes'] as Obj[]).map((v) => v['name']);
  assert.equal(new Set(volumes).size, volumes.length, `volume names are unique: ${volumes.join(', ')}`);
  assert.deepEqual(volumes, ['dionysus-relay-config', 'dionysus-relay-tmp', 'dionysus-sink-config', 'dionysus-sink-tmp']);
  for (const c of containers.slice(1)) {
    for (const m of c['volumeMounts'] as Obj[]) assert.ok(volumes.includes(m['name']), `${c['name']} mounts ${m['name']}`);
  }
  assert.deepEqual(Object.keys(pod['metadata']['annotations']).sort(), ['checksum/dionysus-relay-config', 'checksum/dionysus-sink-config']);
});
