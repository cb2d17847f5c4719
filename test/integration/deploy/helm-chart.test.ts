/**
 * Renders the Helm chart helm/dionysus-relay with a real Helm 3 binary (scripts/helm.sh builds a
 * pinned one with `go install` the first time, which takes minutes) and checks the manifests:
 * probes, ports, env, volumes, security context, grace period, checksum, PodDisruptionBudget,
 * monitoring objects, the sidecar named templates and the Grafana dashboard.
 * Needs Go and bash; no Postgres, no Kafka, no cluster.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

// ---------------------------------------------------------------------------------- paths

/** The repository root: the first folder above this file holding the chart (works from src or build). */
function findRepoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'helm', 'dionysus-relay', 'Chart.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

const ROOT = findRepoRoot();
const HELM_SH = join(ROOT, 'scripts', 'helm.sh');
const CHART = join(ROOT, 'helm', 'dionysus-relay');
const FULL_VALUES = join(CHART, 'ci', 'full-values.yaml');
const SIDECAR_VALUES = join(CHART, 'examples', 'sidecar-values.yaml');
const SIDECAR_APP = join(CHART, 'examples', 'sidecar-app');
const DASHBOARD = join(CHART, 'dashboards', 'dionysus-relay.json');

// ---------------------------------------------------------------------------------- types

interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
  spec?: unknown;
  data?: Record<string, string>;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[] };
  seccompProfile?: { type: string };
}
interface Container {
  name: string;
  args?: string[];
  restartPolicy?: string;
  ports?: { name: string; containerPort: number }[];
  env?: EnvVar[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: SecurityContext;
}
interface Volume {
  name: string;
  configMap?: { name: string };
  emptyDir?: { sizeLimit?: string } | null;
  secret?: { secretName: string };
}
interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  securityContext?: SecurityContext;
}
interface DeploymentSpec {
  replicas: number;
  template: { metadata: Metadata; spec: PodSpec };
}
interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  annotations?: Record<string, string>;
}

// ---------------------------------------------------------------------------------- helm

interface HelmResult {
  status: number;
  stdout: string;
  stderr: string;
}

function helm(args: string[], options: { showProgress?: boolean } = {}): HelmResult {
  const result = spawnSync('bash', [HELM_SH, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    // While helm is being built, let its progress lines through.
    stdio: ['ignore', 'pipe', options.showProgress ? 'inherit' : 'pipe'],
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function helmOk(args: string[]): string {
  const r = helm(args);
  assert.equal(r.status, 0, `helm ${args.join(' ')} failed (${r.status}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** `helm template` of the chart (or another chart), parsed into manifests. */
function render(args: string[], chart: string = CHART, release = 'rel'): Manifest[] {
  const out = helmOk(['template', release, chart, '--namespace', 'shop', ...args]);
  const manifests: Manifest[] = [];
  for (const doc of parseAllDocuments(out)) {
    assert.deepEqual(doc.errors, [], `rendered YAML does not parse: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    manifests.push(value as Manifest);
  }
  return manifests;
}

function kinds(manifests: Manifest[]): string[] {
  return manifests.map((m) => m.kind).sort();
}

function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, got ${found.length} among ${kinds(manifests).join(', ')}`);
  return found[0] as Manifest;
}

function deploymentSpec(manifests: Manifest[], name?: string): DeploymentSpec {
  return only(manifests, 'Deployment', name).spec as DeploymentSpec;
}

function container(pod: PodSpec, name: string, where: 'containers' | 'initContainers' = 'containers'): Container {
  const c = (pod[where] ?? []).find((x) => x.name === name);
  assert.ok(c, `no ${where} entry named ${name}`);
  return c;
}

function env(c: Container, name: string): EnvVar {
  const found = (c.env ?? []).filter((e) => e.name === name);
  assert.equal(found.length, 1, `expected env ${name} once in container ${c.name}`);
  return found[0] as EnvVar;
}

function envValue(c: Container, name: string): string {
  const v = env(c, name).value;
  assert.equal(typeof v, 'string', `env ${name} has no literal value`);
  return v as string;
}

function writeTemp(name: string, content: string): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

// ---------------------------------------------------------------------------------- shared checks

/** What every relay container must have, in both modes. */
function assertRelayContainer(c: Container, opts: { readiness: boolean; secretName: string; graceMs: string }): void {
  assert.deepEqual(c.args, ['run']);
  const port = (c.ports ?? []).find((p) => p.name === 'http-metrics');
  assert.ok(port, 'no http-metrics port');
  assert.equal(port.containerPort, 9394);

  assert.deepEqual(c.livenessProbe?.httpGet, { path: '/healthz', port: 'http-metrics' });
  assert.deepEqual(c.startupProbe?.httpGet, { path: '/healthz', port: 'http-metrics' });
  if (opts.readiness) assert.deepEqual(c.readinessProbe?.httpGet, { path: '/readyz', port: 'http-metrics' });
  else assert.equal(c.readinessProbe, undefined);

  const db = env(c, 'DATABASE_URL');
  assert.equal(db.value, undefined, 'DATABASE_URL must not be a literal');
  assert.equal(db.valueFrom?.secretKeyRef?.name, opts.secretName);
  assert.ok(db.valueFrom?.secretKeyRef?.key);
  assert.ok(envValue(c, 'KAFKA_BROKERS').length > 0);
  assert.equal(envValue(c, 'TOPICS_FILE'), '/etc/dionysus-relay/topics.yaml');
  assert.equal(envValue(c, 'RELAY_SHUTDOWN_GRACE_MS'), opts.graceMs);
  assert.equal(envValue(c, 'HTTP_PORT'), '9394');
  for (const e of c.env ?? []) {
    if (/PASSWORD|USERNAME|DATABASE_URL$/.test(e.name)) {
      assert.equal(e.value, undefined, `${e.name} must come from a Secret, not a literal`);
      assert.ok(e.valueFrom?.secretKeyRef, `${e.name} must be a secretKeyRef`);
    }
  }

  const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.mountPath, m]));
  assert.equal(mounts.get('/etc/dionysus-relay')?.name, 'dionysus-relay-config');
  assert.equal(mounts.get('/etc/dionysus-relay')?.readOnly, true);
  assert.equal(mounts.get('/tmp')?.name, 'dionysus-relay-tmp');

  const sc = c.securityContext;
  assert.ok(sc, 'no container securityContext');
  assert.equal(sc.runAsNonRoot, true);
  assert.equal(sc.runAsUser, 10001);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.deepEqual(sc.capabilities?.drop, ['ALL']);
  assert.equal(sc.seccompProfile?.type, 'RuntimeDefault');

  assert.ok(c.resources?.requests?.['cpu'] && c.resources.requests['memory'], 'resources.requests missing');
  assert.ok(c.resources?.limits?.['memory'], 'resources.limits.memory missing');
}

function assertRelayVolumes(pod: PodSpec, configMapName: string): void {
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  assert.equal(volumes.get('dionysus-relay-config')?.configMap?.name, configMapName);
  const tmpVolume = volumes.get('dionysus-relay-tmp');
  assert.ok(tmpVolume && 'emptyDir' in tmpVolume, '/tmp must be an emptyDir');
}

// ---------------------------------------------------------------------------------- metric names

/** Metric names the relay exports (src/observability/metric-definitions.ts). */
const RELAY_METRICS = new Set([
  'dionysus_relay_rows_published_total',
  'dionysus_relay_rows_failed_total',
  'dionysus_relay_rows_given_up_total',
  'dionysus_relay_batches_abandoned_total',
  'dionysus_relay_pending_rows',
  'dionysus_relay_oldest_pending_age_seconds',
  'dionysus_relay_given_up_rows',
  'dionysus_relay_publish_latency_seconds',
  'dionysus_relay_batch_phase_duration_seconds',
  'dionysus_relay_batch_size',
  'dionysus_relay_inflight_messages',
  'dionysus_relay_kafka_queue_messages',
  'dionysus_relay_kafka_broker_rtt_seconds',
  'dionysus_relay_pg_pool_connections',
  'dionysus_relay_outbox_dead_tuples',
  'dionysus_relay_outbox_last_autovacuum_age_seconds',
  'dionysus_relay_outbox_table_bytes',
  'dionysus_relay_outbox_index_bytes',
  'dionysus_relay_build_info',
  'dionysus_relay_dependency_up',
  'dionysus_relay_active',
]);
const HISTOGRAMS = ['dionysus_relay_publish_latency_seconds', 'dionysus_relay_batch_phase_duration_seconds', 'dionysus_relay_batch_size'];
/** Prometheus' own `up`, and prom-client's default process metrics (nodejs_* below). */
const OTHER_METRICS = new Set(['up', 'process_cpu_seconds_total', 'process_resident_memory_bytes']);

function isKnownMetric(name: string): boolean {
  if (RELAY_METRICS.has(name) || OTHER_METRICS.has(name)) return true;
  if (name.startsWith('nodejs_')) return true; // prom-client's default metrics
  return HISTOGRAMS.some((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`].includes(name));
}

/** Metric names a PromQL expression reads: selectors `name{...}` and any dionysus_relay_* token. */
function metricNames(expr: string): Set<string> {
  const names = new Set<string>();
  for (const m of expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*\{/g)) names.add(m[1] as string);
  for (const m of expr.matchAll(/\b(dionysus_relay_[a-z0-9_]+)\b/g)) names.add(m[1] as string);
  for (const m of expr.matchAll(/label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*[,{)]/g)) names.add(m[1] as string);
  return names;
}

/** Every `expr` and templating `query`/`definition` string in a dashboard, depth first. */
function dashboardQueries(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const item of node) dashboardQueries(item, out);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'expr' || key === 'query' || key === 'definition') && typeof value === 'string') out.push(value);
      else dashboardQueries(value, out);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------- tests

let tmp = '';

before(
  () => {
    tmp = mkdtempSync(join(tmpdir(), 'dionysus-helm-'));
    // First run: builds helm with go install (several minutes); later runs reuse the cached binary.
    const r = helm(['version', '--short'], { showProgress: true });
    assert.equal(r.status, 0, `scripts/helm.sh could not provide helm:\n${r.stderr}`);
    assert.match(r.stdout, /^v3\./);
  },
  { timeout: 15 * 60_000 },
);

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('helm lint passes with the default values', () => {
  const out = helmOk(['lint', 'helm/dionysus-relay', '--strict']);
  assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test('helm lint passes with ci/full-values.yaml and the sidecar example values', () => {
  assert.match(helmOk(['lint', 'helm/dionysus-relay', '--strict', '-f', FULL_VALUES]), /0 chart\(s\) failed/);
  assert.match(helmOk(['lint', 'helm/dionysus-relay', '--strict', '-f', SIDECAR_VALUES]), /0 chart\(s\) failed/);
});

test('standalone defaults: Deployment with probes, env, volumes, security context and grace period', () => {
  const manifests = render([]);
  // The Job is the migrations hook (helm-chart-relay.test.ts).
  assert.deepEqual(kinds(manifests), ['ConfigMap', 'Deployment', 'Job', 'PodDisruptionBudget', 'Service', 'ServiceAccount']);

  const spec = deploymentSpec(manifests, 'rel-dionysus-relay');
  assert.equal(spec.replicas, 2);
  const pod = spec.template.spec;
  assert.equal(pod.containers.length, 1);
  const relay = container(pod, 'dionysus-relay');
  assertRelayContainer(relay, { readiness: true, secretName: 'dionysus-relay-database', graceMs: '25000' });
  assert.ok(!(relay.env ?? []).some((e) => e.name === 'KAFKA_LIBRDKAFKA'), 'KAFKA_LIBRDKAFKA set without kafka.librdkafka values');

  const configMap = only(manifests, 'ConfigMap');
  assertRelayVolumes(pod, configMap.metadata.name);
  assert.ok(configMap.data?.['topics.yaml'] !== undefined, 'ConfigMap has no topics.yaml');

  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.securityContext?.runAsNonRoot, true);
  assert.equal(pod.securityContext?.runAsUser, 10001);
  assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault');

  const grace = pod.terminationGracePeriodSeconds;
  assert.equal(grace, 40);
  assert.ok((grace ?? 0) > 25 + 5, 'terminationGracePeriodSeconds must exceed the drain grace');

  assert.match(spec.template.metadata.annotations?.['checksum/config'] ?? '', /^[0-9a-f]{64}$/);
});

test('standalone defaults: metrics Service, ServiceAccount without token, PodDisruptionBudget, no monitoring objects', () => {
  const manifests = render([]);
  const service = only(manifests, 'Service').spec as { ports: { name: string; port: number; targetPort: string }[] };
  assert.deepEqual(service.ports.map((p) => [p.name, p.port, p.targetPort]), [['http-metrics', 9394, 'http-metrics']]);

  const sa = only(manifests, 'ServiceAccount') as Manifest & { automountServiceAccountToken?: boolean };
  assert.equal(sa.automountServiceAccountToken, false);

  const pdb = only(manifests, 'PodDisruptionBudget');
  assert.equal(pdb.apiVersion, 'policy/v1');
  const pdbSpec = pdb.spec as { maxUnavailable?: number; minAvailable?: number; selector: { matchLabels: Record<string, string> } };
  assert.equal(pdbSpec.maxUnavailable, 1);
  assert.equal(pdbSpec.selector.matchLabels['app.kubernetes.io/instance'], 'rel');

  for (const kind of ['ServiceMonitor', 'PodMonitor', 'PrometheusRule']) {
    assert.equal(manifests.filter((m) => m.kind === kind).length, 0, `${kind} rendered without being enabled`);
  }
  assert.equal(manifests.filter((m) => m.kind === 'ConfigMap').length, 1, 'dashboard ConfigMap rendered without being enabled');
});

test('standalone full values: secrets by reference, librdkafka JSON, extra env, monitoring objects', () => {
  const manifests = render(['-f', FULL_VALUES]);
  const pod = deploymentSpec(manifests).template.spec;
  const relay = container(pod, 'dionysus-relay');
  assertRelayContainer(relay, { readiness: true, secretName: 'shop-relay-database', graceMs: '30000' });
  assert.equal(pod.terminationGracePeriodSeconds, 45);

  assert.equal(envValue(relay, 'KAFKA_BROKERS'), 'kafka-0.kafka.svc:9093,kafka-1.kafka.svc:9093,kafka-2.kafka.svc:9093');
  assert.equal(envValue(relay, 'KAFKA_SECURITY_PROTOCOL'), 'sasl_ssl');
  assert.equal(envValue(relay, 'KAFKA_SASL_MECHANISM'), 'SCRAM-SHA-512');
  assert.deepEqual(env(relay, 'KAFKA_SASL_USERNAME').valueFrom?.secretKeyRef, { name: 'shop-relay-kafka', key: 'username' });
  assert.deepEqual(env(relay, 'KAFKA_SASL_PASSWORD').valueFrom?.secretKeyRef, { name: 'shop-relay-kafka', key: 'password' });
  assert.deepEqual(JSON.parse(envValue(relay, 'KAFKA_LIBRDKAFKA')), {
    'linger.ms': 5,
    'compression.type': 'lz4',
    'enable.idempotence': true,
  });
  assert.equal(envValue(relay, 'RETRY_MAX_ATTEMPTS'), '12');
  assert.equal(envValue(relay, 'HEALTH_COMPAT_FILE'), 'true');
  assert.equal(envValue(relay, 'KAFKA_SSL_CA_FILE'), '/var/run/secrets/dionysus-relay/kafka-ca/ca.crt');

  const pdb = only(manifests, 'PodDisruptionBudget').spec as { minAvailable?: number; maxUnavailable?: number };
  assert.equal(pdb.minAvailable, 2);
  assert.equal(pdb.maxUnavailable, undefined);

  const sm = only(manifests, 'ServiceMonitor');
  assert.equal(sm.metadata.labels?.['release'], 'prometheus');
  const smSpec = sm.spec as { endpoints: { port: string; path: string }[] };
  assert.deepEqual(smSpec.endpoints.map((e) => [e.port, e.path]), [['http-metrics', '/metrics']]);

  const rules = (only(manifests, 'PrometheusRule').spec as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
  const byAlert = new Map(rules.map((r) => [r.alert ?? '', r]));
  for (const alert of [
    'DionysusRelayOldestPendingRowTooOld',
    'DionysusRelayOldestPendingRowCritical',
    'DionysusRelayPublishFailureRate',
    'DionysusRelayRowsGivenUp',
    'DionysusRelayGivenUpRows',
    'DionysusRelayInstanceDown',
    'DionysusRelayDependencyDown',
    'DionysusRelayDown',
    'DionysusRelayNoActiveRelay',
  ]) {
    assert.ok(byAlert.has(alert), `alert ${alert} missing`);
  }
  assert.match(byAlert.get('DionysusRelayOldestPendingRowTooOld')?.expr ?? '', /dionysus_relay_oldest_pending_age_seconds\{[^}]*job="rel-dionysus-relay"[^}]*\}\) > 120/);
  assert.match(byAlert.get('DionysusRelayPublishFailureRate')?.expr ?? '', /> 0\.02\s*$/);
  assert.match(byAlert.get('DionysusRelayRowsGivenUp')?.expr ?? '', /increase\(dionysus_relay_rows_given_up_total\{[^}]*\}\[1h\]\)\) > 0/);
  assert.match(byAlert.get('DionysusRelayGivenUpRows')?.expr ?? '', /^max by \(namespace, topic\) \(dionysus_relay_given_up_rows\{[^}]*\}\) > 0$/);
  assert.equal(byAlert.get('DionysusRelayGivenUpRows')?.for, '1h');
  assert.match(byAlert.get('DionysusRelayDown')?.expr ?? '', /^absent\(up\{/);
  assert.match(byAlert.get('DionysusRelayDependencyDown')?.expr ?? '', /^dionysus_relay_dependency_up\{[^}]*job="rel-dionysus-relay"[^}]*\} == 0$/);
  for (const rule of rules) {
    for (const name of metricNames(rule.expr)) assert.ok(isKnownMetric(name), `alert ${rule.alert} reads unknown metric ${name}`);
  }

  const dashboards = manifests.filter((m) => m.kind === 'ConfigMap' && m.metadata.labels?.['grafana_dashboard'] === '1');
  assert.equal(dashboards.length, 1, 'dashboard ConfigMap missing');
  const shipped = dashboards[0]?.data?.['dionysus-relay.json'] ?? '';
  assert.deepEqual(JSON.parse(shipped), JSON.parse(readFileSync(DASHBOARD, 'utf8')));
});

test('checksum/config changes when the topics change, and only then', () => {
  const checksum = (args: string[]): string =>
    deploymentSpec(render(args)).template.metadata.annotations?.['checksum/config'] ?? '';
  const topicsA = writeTemp('topics-a.yaml', stringify({ topics: { namespace: 'shop', topics: { users: { models: { User: { view: 'v_users' } } } } } }));
  const topicsB = writeTemp('topics-b.yaml', stringify({ topics: { namespace: 'shop', topics: { users: { models: { User: { view: 'v_users2' } } } } } }));
  const a = checksum(['-f', topicsA]);
  assert.match(a, /^[0-9a-f]{64}$/);
  assert.equal(checksum(['-f', topicsA, '--set', 'replicaCount=5']), a, 'checksum moved although the topics did not change');
  assert.notEqual(checksum(['-f', topicsB]), a);
  assert.notEqual(checksum(['--set-string', 'topicsYaml=namespace: other']), a);

  // The checksum is that of the mounted file.
  const manifests = render(['-f', topicsA]);
  const file = only(manifests, 'ConfigMap').data?.['topics.yaml'] ?? '';
  assert.equal(createHash('sha256').update(file.replace(/\n$/, '')).digest('hex'), a);
});

test('rendering fails with a clear message when the grace period is too short for the drain', () => {
  const tooShort = helm(['template', 'rel', 'helm/dionysus-relay', '--set', 'terminationGracePeriodSeconds=30']);
  assert.notEqual(tooShort.status, 0);
  assert.match(tooShort.stderr, /terminationGracePeriodSeconds \(30\) must be greater than relay\.shutdownGraceSeconds \(25\) \+ 5/);

  const longerDrain = helm(['template', 'rel', 'helm/dionysus-relay', '--set', 'relay.shutdownGraceSeconds=60']);
  assert.notEqual(longerDrain.status, 0);
  assert.match(longerDrain.stderr, /terminationGracePeriodSeconds \(40\) must be greater than relay\.shutdownGraceSeconds \(60\) \+ 5/);

  const justEnough = render(['--set', 'terminationGracePeriodSeconds=31']);
  assert.equal(deploymentSpec(justEnough).template.spec.terminationGracePeriodSeconds, 31);
});

test('rendering refuses missing or literal credentials', () => {
  const noSecret = helm(['template', 'rel', 'helm/dionysus-relay', '--set', 'database.existingSecret=']);
  assert.notEqual(noSecret.status, 0);
  assert.match(noSecret.stderr, /database\.existingSecret is required/);

  const saslWithoutSecret = helm(['template', 'rel', 'helm/dionysus-relay', '--set', 'kafka.sasl.mechanism=PLAIN']);
  assert.notEqual(saslWithoutSecret.status, 0);
  assert.match(saslWithoutSecret.stderr, /kafka\.sasl\.existingSecret is required/);

  const literalPassword = helm(['template', 'rel', 'helm/dionysus-relay', '--set-string', 'kafka.librdkafka.sasl\\.password=x']);
  assert.notEqual(literalPassword.status, 0);
  assert.match(literalPassword.stderr, /looks like a credential/);
});

test('sidecar mode renders only the ConfigMap and the migrations hook, plus monitoring objects when enabled', () => {
  const bare = render(['--set', 'mode=sidecar']);
  assert.deepEqual(kinds(bare), ['ConfigMap', 'Job']);

  const example = render(['-f', SIDECAR_VALUES]);
  assert.deepEqual(kinds(example), ['ConfigMap', 'Job', 'PodMonitor', 'PrometheusRule']);
  const podMonitor = only(example, 'PodMonitor').spec as {
    selector: { matchLabels: Record<string, string> };
    podMetricsEndpoints: { port: string; path: string }[];
  };
  assert.deepEqual(podMonitor.selector.matchLabels, { 'app.kubernetes.io/name': 'shop' });
  assert.deepEqual(podMonitor.podMetricsEndpoints.map((e) => [e.port, e.path]), [['http-metrics', '/metrics']]);
  const rules = (only(example, 'PrometheusRule').spec as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
  assert.ok(rules.every((r) => !r.expr.includes('{}')), 'a rule has an empty selector');
  assert.ok(rules.some((r) => r.expr.includes('job="shop/rel-dionysus-relay"')), 'rules do not select the PodMonitor job');

  const noMonitor = helm(['template', 'rel', 'helm/dionysus-relay', '--set', 'mode=sidecar', '--set', 'metrics.prometheusRule.enabled=true']);
  assert.notEqual(noMonitor.status, 0);
  assert.match(noMonitor.stderr, /metricSelector is required/);
});

test('sidecar named templates add the relay to an application pod (example app chart, file:// dependency)', () => {
  // A copy of examples/sidecar-app whose dependency points at this checkout's chart.
  const app = join(tmp, 'sidecar-app');
  cpSync(SIDECAR_APP, app, { recursive: true });
  const chartYaml = readFileSync(join(app, 'Chart.yaml'), 'utf8').replace('file://../..', `file://${CHART}`);
  writeFileSync(join(app, 'Chart.yaml'), chartYaml);
  helmOk(['dependency', 'build', app]);
  assert.match(helmOk(['lint', app, '--strict']), /0 chart\(s\) failed/);

  // The example sidecar values, nested under the dependency's key as an application gives them.
  const relayValues = parse(readFileSync(SIDECAR_VALUES, 'utf8')) as Record<string, unknown>;
  const valuesFile = writeTemp('app-values.yaml', stringify({ 'dionysus-relay': relayValues }));

  const manifests = render(['-f', valuesFile], app, 'shop');
  assert.deepEqual(kinds(manifests), ['ConfigMap', 'Deployment', 'Job', 'PodMonitor', 'PrometheusRule']);
  const configMap = only(manifests, 'ConfigMap');
  assert.equal(configMap.metadata.name, 'shop-dionysus-relay-config');

  const spec = deploymentSpec(manifests, 'shop-shop');
  const pod = spec.template.spec;
  assert.deepEqual(pod.containers.map((c) => c.name), ['web', 'dionysus-relay']);
  const relay = container(pod, 'dionysus-relay');
  assertRelayContainer(relay, { readiness: false, secretName: 'shop-database', graceMs: '25000' });
  assert.equal(envValue(relay, 'KAFKA_BROKERS'), 'kafka-0.kafka.svc:9092,kafka-1.kafka.svc:9092');
  assert.deepEqual(JSON.parse(envValue(relay, 'KAFKA_LIBRDKAFKA')), { 'linger.ms': 5 });
  assert.equal(relay.restartPolicy, undefined);
  assertRelayVolumes(pod, configMap.metadata.name);
  assert.ok((pod.volumes ?? []).some((v) => v.name === 'tmp'), "the application's own volumes are kept");
  assert.ok((pod.terminationGracePeriodSeconds ?? 0) > 25 + 5);

  const file = configMap.data?.['topics.yaml'] ?? '';
  assert.equal(
    spec.template.metadata.annotations?.['checksum/dionysus-relay-config'],
    createHash('sha256').update(file.replace(/\n$/, '')).digest('hex'),
  );

  // Readiness probe on request; native sidecar under initContainers.
  const ready = container(deploymentSpec(render(['-f', valuesFile, '--set', 'dionysus-relay.sidecar.readinessProbe=true'], app, 'shop')).template.spec, 'dionysus-relay');
  assert.deepEqual(ready.readinessProbe?.httpGet, { path: '/readyz', port: 'http-metrics' });
  const nativePod = deploymentSpec(render(['-f', valuesFile, '--set', 'dionysus-relay.sidecar.native=true'], app, 'shop')).template.spec;
  assert.deepEqual(nativePod.containers.map((c) => c.name), ['web']);
  assert.equal(container(nativePod, 'dionysus-relay', 'initContainers').restartPolicy, 'Always');

  // The grace period check also guards the application's pod.
  const tooShort = helm(['template', 'shop', app, '-f', valuesFile, '--set', 'dionysus-relay.terminationGracePeriodSeconds=20']);
  assert.notEqual(tooShort.status, 0);
  assert.match(tooShort.stderr, /terminationGracePeriodSeconds \(20\) must be greater than relay\.shutdownGraceSeconds \(25\) \+ 5/);
});

test('the Grafana dashboard parses and reads only metrics the relay exports', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid?: string; title?: string; panels?: unknown[] };
  assert.equal(dashboard.uid, 'dionysus-relay');
  assert.ok((dashboard.panels ?? []).length > 10);
  const queries = dashboardQueries(dashboard);
  assert.ok(queries.length > 20, 'too few queries found');

  const used = new Set<string>();
  for (const q of queries) {
    for (const name of metricNames(q)) {
      assert.ok(isKnownMetric(name), `dashboard reads unknown metric ${name} in: ${q}`);
      used.add(name);
    }
  }
  // Against the daemon's own definitions too, when the metrics module is where it is expected.
  const metricsSource = join(ROOT, 'src', 'observability', 'metric-definitions.ts');
  if (existsSync(metricsSource)) {
    const source = readFileSync(metricsSource, 'utf8');
    for (const name of used) {
      if (!name.startsWith('dionysus_relay_')) continue;
      const base = HISTOGRAMS.find((h) => name === `${h}_bucket` || name === `${h}_sum` || name === `${h}_count`) ?? name;
      const suffix = base.slice('dionysus_relay_'.length);
      assert.ok(source.includes(`'${suffix}'`), `${base} is not defined in src/observability/metric-definitions.ts`);
    }
  }
  for (const expected of [
    'dionysus_relay_rows_published_total',
    'dionysus_relay_rows_failed_total',
    'dionysus_relay_rows_given_up_total',
    'dionysus_relay_pending_rows',
    'dionysus_relay_oldest_pending_age_seconds',
    'dionysus_relay_publish_latency_seconds_bucket',
    'dionysus_relay_batch_phase_duration_seconds_bucket',
    'dionysus_relay_kafka_queue_messages',
    'dionysus_relay_pg_pool_connections',
    'dionysus_relay_outbox_dead_tuples',
    'dionysus_relay_outbox_table_bytes',
    'dionysus_relay_given_up_rows',
    'dionysus_relay_dependency_up',
  ]) {
    assert.ok(used.has(expected), `dashboard does not show ${expected}`);
  }
});

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces as hyphens. */
function headingAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

test('every alert has a runbook_url whose anchor is a section of docs/runbook.md, and every alert section has an alert', () => {
  const runbook = readFileSync(join(ROOT, 'docs', 'runbook.md'), 'utf8');
  const headings = [...runbook.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1] as string);
  const anchors = new Set(headings.map(headingAnchor));
  const base = 'https://github.com/dionysus-relay/dionysus-relay/blob/main/docs/runbook.md';
  const rulesOf = (manifests: Manifest[]): Rule[] =>
    (only(manifests, 'PrometheusRule').spec as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);

  // The chart's own alerts (ci/full-values.yaml adds a rule of a user's through additionalRules).
  const enabled = ['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.prometheusRule.enabled=true'];
  const rules = rulesOf(render(enabled));
  assert.ok(rules.length >= 6, `only ${rules.length} alerts rendered`);
  for (const rule of rules) {
    const url = rule.annotations?.['runbook_url'] ?? '';
    assert.ok(url.startsWith(`${base}#`), `alert ${rule.alert} has runbook_url ${JSON.stringify(url)}`);
    const anchor = url.slice(base.length + 1);
    assert.ok(anchors.has(anchor), `alert ${rule.alert}: docs/runbook.md has no section #${anchor}`);
  }
  // One section per alert, and no section for an alert that does not exist.
  const alertSections = headings.filter((h) => /^DionysusRelay\w+$/.test(h)).sort();
  assert.deepEqual(alertSections, rules.map((r) => r.alert as string).sort());

  // The base URL is a value (your own copy of the runbook), and it cannot be empty.
  const own = rulesOf(render([...enabled, '--set', 'metrics.prometheusRule.runbookBaseUrl=https://wiki.example.com/relay']));
  assert.ok(own.every((r) => r.annotations?.['runbook_url'] === `https://wiki.example.com/relay#${(r.alert as string).toLowerCase()}`));
  const none = helm(['template', 'rel', CHART, ...enabled, '--set', 'metrics.prometheusRule.runbookBaseUrl=']);
  assert.notEqual(none.status, 0);
  assert.match(none.stderr, /metrics\.prometheusRule\.runbookBaseUrl is required/);
});
