/**
 * The chart's relay-specific parts: the migrations hook Job, active slots and the lock table share
 * in both modes, values.schema.json and the "no active relay" alert. Rendered with the real Helm 3
 * of scripts/helm.sh, like helm-chart.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { packageRoot } from '../../../src/package-root';

const ROOT = packageRoot();
const CHART = join(ROOT, 'helm', 'dionysus-relay');

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- rendered manifests are untyped YAML

function helmRun(args: string[]): { status: number; out: string; err: string } {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'helm.sh'), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status ?? -1, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function manifests(args: string[]): Obj[] {
  const r = helmRun(['template', 'rel', CHART, '--namespace', 'shop', ...args]);
  assert.equal(r.status, 0, r.err);
  return parseAllDocuments(r.out).map((d) => d.toJS() as Obj).filter((m) => m !== null && m !== undefined);
}

const ofKind = (all: Obj[], kind: string): Obj[] => all.filter((m) => m['kind'] === kind);
const envOf = (c: Obj): Map<string, Obj> => new Map((c['env'] as Obj[]).map((e) => [e['name'] as string, e]));
const relayEnv = (all: Obj[]): Map<string, Obj> => envOf((ofKind(all, 'Deployment')[0] as Obj)['spec']['template']['spec']['containers'][0] as Obj);
const job = (all: Obj[]): Obj => {
  const jobs = ofKind(all, 'Job');
  assert.equal(jobs.length, 1, 'one migrations Job');
  return jobs[0] as Obj;
};

/**
 * The env of the relay container in sidecar mode, as the named template dionysus-relay.sidecarContainer
 * renders it: from a copy of the chart with one more template that includes it (an application
 * chart using it is tested in helm-chart.test.ts).
 */
function sidecarEnv(values: string[]): Map<string, Obj> {
  const copy = join(tmp, `chart-${Math.random().toString(36).slice(2)}`);
  cpSync(CHART, copy, { recursive: true });
  writeFileSync(join(copy, 'templates', 'sidecar-container.yaml'), 'containers:\n{{- include "dionysus-relay.sidecarContainer" . | nindent 2 }}\n');
  const r = helmRun(['template', 'rel', copy, '--namespace', 'shop', '--set', 'mode=sidecar', ...values, '--show-only', 'templates/sidecar-container.yaml']);
  assert.equal(r.status, 0, r.err);
  const rendered = parseAllDocuments(r.out)[0]?.toJS() as Obj;
  return envOf(rendered['containers'][0] as Obj);
}

let tmp = '';
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'dionysus-helm-relay-'));
  assert.equal(helmRun(['version', '--short']).status, 0, 'scripts/helm.sh provides helm');
}, { timeout: 15 * 60_000 });
after(() => rmSync(tmp, { recursive: true, force: true }));

test('migrations run as a pre-install/pre-upgrade hook Job, with --with per optional migration', () => {
  const all = manifests(['--set', 'migrations.with[0]=notify_trigger', '--set', 'migrations.with[1]=strict_retry_index', '--set', 'database.schema=shop']);
  const j = job(all);
  assert.equal(j['metadata']['name'], 'rel-dionysus-relay-migrate');
  assert.equal(j['metadata']['annotations']['helm.sh/hook'], 'pre-install,pre-upgrade');
  assert.equal(j['metadata']['annotations']['helm.sh/hook-delete-policy'], 'before-hook-creation,hook-succeeded');
  const pod = j['spec']['template'];
  const [migrate] = pod['spec']['containers'] as Obj[];
  assert.deepEqual(migrate?.['args'], ['migrate', '--with', 'notify_trigger', '--with', 'strict_retry_index']);
  const env = envOf(migrate as Obj);
  assert.deepEqual(env.get('DATABASE_URL')?.['valueFrom']['secretKeyRef'], { name: 'dionysus-relay-database', key: 'DATABASE_URL' });
  assert.equal(env.get('DATABASE_SCHEMA')?.['value'], 'shop');
  assert.equal(env.has('KAFKA_BROKERS'), false, 'migrate needs no Kafka');
  // A hook runs before the chart's other objects exist: no ConfigMap volume, no chart ServiceAccount.
  assert.equal(pod['spec']['serviceAccountName'], undefined);
  assert.equal(pod['spec']['automountServiceAccountToken'], false);
  assert.ok(!(pod['spec']['volumes'] as Obj[]).some((v) => v['configMap'] !== undefined), 'the Job mounts no ConfigMap');
  assert.equal(pod['spec']['restartPolicy'], 'Never');
  assert.equal(migrate?.['securityContext']['readOnlyRootFilesystem'], true);
  // Not selected by the relay's Service or PodDisruptionBudget.
  const selector = (ofKind(all, 'Service')[0] as Obj)['spec']['selector'] as Record<string, string>;
  const labels = pod['metadata']['labels'] as Record<string, string>;
  assert.ok(Object.entries(selector).some(([k, v]) => labels[k] !== v), 'the migration pod carries the relay pods\' selector labels');

  const asFile = job(manifests(['--set', 'database.mountAsFile=true']));
  const fileEnv = envOf(asFile['spec']['template']['spec']['containers'][0] as Obj);
  assert.equal(fileEnv.get('DATABASE_URL_FILE')?.['value'], '/var/run/secrets/dionysus-relay/database/DATABASE_URL');
  assert.ok((asFile['spec']['template']['spec']['volumes'] as Obj[]).some((v) => v['secret']?.['secretName'] === 'dionysus-relay-database'));

  assert.equal(ofKind(manifests(['--set', 'migrations.enabled=false']), 'Job').length, 0);
  const sink = ['--set', 'component=sink', '--set', 'sink.config.client_id=shop', '--set', 'sink.config.models.User.table=users'];
  assert.equal(ofKind(manifests(sink), 'Job').length, 0, 'only the relay migrates');
  assert.equal(ofKind(manifests(['--set', 'mode=sidecar']), 'Job').length, 1, 'sidecar mode migrates too');
});

test('active slots: replicaCount in standalone mode, 4 with a 50 % lock table share in sidecar mode', () => {
  const standalone = relayEnv(manifests([]));
  assert.equal(standalone.get('RELAY_ACTIVE_SLOTS')?.['value'], '2');
  assert.equal(standalone.get('RELAY_LOCK_TABLE_SHARE')?.['value'], '50');
  assert.equal(relayEnv(manifests(['--set', 'replicaCount=5'])).get('RELAY_ACTIVE_SLOTS')?.['value'], '5');
  const chosen = relayEnv(manifests(['--set', 'relay.activeSlots=3', '--set', 'relay.lockTableShare=30']));
  assert.equal(chosen.get('RELAY_ACTIVE_SLOTS')?.['value'], '3');
  assert.equal(chosen.get('RELAY_LOCK_TABLE_SHARE')?.['value'], '30');
  const unlimited = relayEnv(manifests(['--set', 'relay.activeSlots=0']));
  assert.equal(unlimited.get('RELAY_ACTIVE_SLOTS')?.['value'], '0');
  assert.equal(unlimited.has('RELAY_LOCK_TABLE_SHARE'), false, 'no share without a limit (the relay refuses it)');

  const sidecar = sidecarEnv([]);
  assert.equal(sidecar.get('RELAY_ACTIVE_SLOTS')?.['value'], '4');
  assert.equal(sidecar.get('RELAY_LOCK_TABLE_SHARE')?.['value'], '50');
  assert.equal(sidecarEnv(['--set', 'relay.activeSlots=2']).get('RELAY_ACTIVE_SLOTS')?.['value'], '2');

  const zero = helmRun(['template', 'rel', CHART, '--set', 'mode=sidecar', '--set', 'relay.activeSlots=0']);
  assert.notEqual(zero.status, 0);
  assert.match(zero.err, /relay\.activeSlots: 0 \(no limit on active relays\) is refused in sidecar mode/);
  const shareWithoutSlots = helmRun(['template', 'rel', CHART, '--set', 'relay.activeSlots=0', '--set', 'relay.lockTableShare=20']);
  assert.notEqual(shareWithoutSlots.status, 0);
  assert.match(shareWithoutSlots.err, /relay\.lockTableShare needs relay\.activeSlots > 0/);
});

test('values.schema.json refuses wrong types, choices and ranges of relay and sink values; good ones render', () => {
  const bad: Array<[string[], RegExp]> = [
    [['--set', 'relay.activeSlots=-1'], /\/relay\/activeSlots': minimum: got -1, want 0/],
    [['--set', 'relay.lockTableShare=150'], /\/relay\/lockTableShare': maximum: got 150, want 100/],
    [['--set', 'relay.batchSize=0'], /\/relay\/batchSize': minimum: got 0, want 1/],
    [['--set-string', 'relay.batchSize=many'], /\/relay\/batchSize': got string, want null or integer/],
    [['--set', 'relay.logLevel=loud'], /\/relay\/logLevel': value must be one of/],
    [['--set', 'relay.bachSize=10'], /additional properties 'bachSize' not allowed/],
    [['--set', 'mode=daemonset'], /\/mode': value must be one of 'standalone', 'sidecar'/],
    [['--set', 'component=consumer'], /\/component': value must be one of 'relay', 'sink'/],
    [['--set', 'sink.concurrency=0'], /\/sink\/concurrency': minimum: got 0, want 1/],
    [['--set', 'sink.maxBatchMessages=1000000'], /\/sink\/maxBatchMessages': maximum/],
    [['--set', 'migrations.with[0]=drop_everything'], /\/migrations\/with\/0': value must be one of/],
    [['--set', 'kafka.securityProtocol=tls'], /\/kafka\/securityProtocol': value must be one of/],
    [['--set', 'httpPort=70000'], /\/httpPort': maximum/],
  ];
  for (const [values, message] of bad) {
    for (const command of ['template', 'lint']) {
      const args = command === 'template' ? ['template', 'rel', CHART, ...values] : ['lint', CHART, '--strict', ...values];
      const r = helmRun(args);
      assert.notEqual(r.status, 0, `helm ${command} accepted ${values.join(' ')}`);
      assert.match(r.err + r.out, message, `helm ${command} ${values.join(' ')}`);
    }
  }
  const good = ['--set', 'relay.activeSlots=3', '--set', 'relay.lockTableShare=40', '--set', 'relay.batchSize=500', '--set', 'sink.concurrency=8', '--set', 'migrations.with[0]=notify_trigger'];
  assert.equal(helmRun(['lint', CHART, '--strict', ...good]).status, 0);
  assert.equal(relayEnv(manifests(good)).get('RELAY_BATCH_SIZE')?.['value'], '500');
});

test('the "no active relay" alert: relays up, none active, rows pending', () => {
  const enabled = ['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.prometheusRule.enabled=true', '--set', 'metrics.prometheusRule.noActiveRelay.for=3m'];
  const rules = ((ofKind(manifests(enabled), 'PrometheusRule')[0] as Obj)['spec']['groups'][0]['rules'] as Obj[]).filter((r) => r['alert'] === 'DionysusRelayNoActiveRelay');
  assert.equal(rules.length, 1);
  const rule = rules[0] as Obj;
  assert.match(rule['expr'], /sum by \(namespace\) \(dionysus_relay_active\{namespace="shop", job="rel-dionysus-relay"\}\) == 0/);
  assert.match(rule['expr'], /and on \(namespace\)\s+max by \(namespace\) \(dionysus_relay_pending_rows\{[^}]+\}\) > 0/);
  assert.equal(rule['for'], '3m');
  assert.equal(rule['labels']['severity'], 'critical');
  assert.match(rule['annotations']['runbook_url'], /docs\/runbook\.md#dionysusrelaynoactiverelay$/);
});
