import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AdminClient } from 'node-rdkafka';
import { packageRoot } from '../../../src/package-root';
import { freePort } from '../observability/support';

// Throwaway, isolated services for the TLS/SASL tests: a CA and server certificate made with
// openssl, a KRaft broker with SASL_SSL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and SSL listeners
// (from the jars scripts/services.sh resolves), and a PostgreSQL 15 cluster that accepts TCP
// connections only over TLS. Nothing here touches the shared services of scripts/services.sh.

// ------------------------------------------------------------------------------------ processes

interface Finished {
  code: number | null;
  output: string;
}

/** Runs a command to completion (stdout and stderr together); never throws. */
function run(command: string, args: readonly string[], options: { uid?: number; gid?: number } = {}): Promise<Finished> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (err) => resolve({ code: null, output: `${output}${err.message}` }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

async function runOrThrow(what: string, command: string, args: readonly string[], options: { uid?: number; gid?: number } = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(`${what} failed (exit ${String(result.code)}):\n${result.output}`);
  return result.output;
}

/** A long-running child whose output is kept (the last 256 KB) and watched for a line. */
class Daemon {
  private text = '';
  readonly exited: Promise<void>;
  private readonly onExit: () => void;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    private readonly emergencySignal: NodeJS.Signals,
  ) {
    const keep = (chunk: Buffer): void => {
      this.text = (this.text + chunk.toString()).slice(-256 * 1024);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.on('exit', () => resolve()));
    // Should the test process end without its teardown, the daemon must not outlive it.
    this.onExit = () => {
      if (this.running) child.kill(this.emergencySignal);
    };
    process.on('exit', this.onExit);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.text;
  }

  /** waitFor, and a daemon that never got ready is stopped (emergency signal) before the error is rethrown. */
  async startedOrStopped(marker: string, timeoutMs: number, stopGraceMs: number): Promise<void> {
    try {
      await this.waitFor(marker, timeoutMs);
    } catch (err) {
      await this.stop(this.emergencySignal, stopGraceMs);
      throw err;
    }
  }

  /** Resolves once the output contains `marker`; rejects when the process exits first or after timeoutMs. */
  async waitFor(marker: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.text.includes(marker)) {
      if (!this.running) throw new Error(`${this.name} exited during start-up:\n${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`${this.name} not ready after ${timeoutMs} ms (no "${marker}"):\n${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  tail(lines = 40): string {
    return this.text.split('\n').slice(-lines).join('\n');
  }

  /** Sends `signal`, waits up to graceMs, then SIGKILL. */
  async stop(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    process.off('exit', this.onExit);
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export { freePort };

/** `count` distinct free ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function secret(): string {
  return randomBytes(12).toString('hex');
}

// ------------------------------------------------------------------------------------- the PKI

export interface TestPki {
  /** The CA that signed the server certificate (PEM). */
  caFile: string;
  /** Server certificate for IP 127.0.0.1 and DNS localhost (not 127.0.0.2), signed by caFile. */
  serverCertFile: string;
  serverKeyFile: string;
  /** An unrelated CA: trusting only this one must fail every handshake. */
  otherCaFile: string;
}

async function selfSignedCa(dir: string, name: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  await runOrThrow(`openssl: CA ${name}`, 'openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=dionysus-relay test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

/** A throwaway CA, a server certificate it signed, and an unrelated CA; EC P-256 keys, valid 2 days. */
export async function createTestPki(dir: string): Promise<TestPki> {
  mkdirSync(dir, { recursive: true });
  const [ca, other] = await Promise.all([selfSignedCa(dir, 'ca'), selfSignedCa(dir, 'other-ca')]);
  const serverKeyFile = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const serverCertFile = join(dir, 'server.pem');
  const extFile = join(dir, 'server.ext');
  writeFileSync(extFile, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  await runOrThrow('openssl: server key', 'openssl', [
    'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', serverKeyFile, '-out', csr, '-subj', '/CN=localhost',
  ]);
  await runOrThrow('openssl: server certificate', 'openssl', [
    'x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(Date.now()), '-days', '2',
    '-extfile', extFile, '-out', serverCertFile,
  ]);
  return { caFile: ca.cert, serverCertFile, serverKeyFile, otherCaFile: other.cert };
}

// ----------------------------------------------------------------------------------------- Kafka

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

export interface SaslUser {
  username: string;
  password: string;
}

export interface SecureKafka {
  /** Bootstrap of the SASL_SSL listener (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 enabled). */
  saslSslBrokers: string;
  /** Bootstrap of the SSL listener (TLS, no authentication). */
  sslBrokers: string;
  /** One user per mechanism, each known to that mechanism only. */
  users: Record<SaslMechanism, SaslUser>;
  /** librdkafka settings of a test client (admin, consumer) with the given security. */
  clientConfig(protocol: 'ssl' | 'sasl_ssl', mechanism?: SaslMechanism): Record<string, string>;
  output(): string;
  stop(): Promise<void>;
}

/** The jar folder scripts/services.sh resolves with Maven (same cache, same Kafka version). */
function kafkaLibsDir(): string {
  const pom = readFileSync(join(packageRoot(), 'services', 'kafka', 'pom.xml'), 'utf8');
  const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1];
  if (version === undefined) throw new Error('cannot read <kafka.version> from services/kafka/pom.xml');
  const cache = process.env['DIONYSUS_CACHE_DIR'] ?? join(process.env['HOME'] ?? homedir(), '.cache', 'dionysus-relay');
  const libs = join(cache, `kafka-${version}`, 'libs');
  if (!existsSync(join(libs, `kafka_2.13-${version}.jar`))) {
    throw new Error(`Kafka ${version} jars missing in ${libs}: run "bash scripts/services.sh start" once (it resolves them)`);
  }
  return libs;
}

function javaArgs(heap: string[], libs: string): string[] {
  // C1 only and the serial collector: a broker that lives for a minute starts faster on 2 cores.
  return [
    ...heap, '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(packageRoot(), 'services', 'kafka', 'log4j2.xml')}`, '-cp', `${libs}/*`,
  ];
}

/**
 * A single KRaft node (broker + controller) in `dir`: SASL_SSL and SSL listeners for clients, a
 * PLAINTEXT listener for the broker's own traffic and one for the controller, all on free ports of
 * 127.0.0.1. The PEM key and certificate are read directly (ssl.keystore.type=PEM). SCRAM users
 * are written into the metadata log at format time, the PLAIN user into the listener's JAAS config.
 */
export async function startSecureKafka(dir: string, pki: TestPki): Promise<SecureKafka> {
  const libs = kafkaLibsDir();
  mkdirSync(dir, { recursive: true });
  const [saslPort, sslPort, brokerPort, controllerPort] = await freePorts(4);
  const users: Record<SaslMechanism, SaslUser> = {
    PLAIN: { username: 'plain-user', password: secret() },
    'SCRAM-SHA-256': { username: 'scram256-user', password: secret() },
    'SCRAM-SHA-512': { username: 'scram512-user', password: secret() },
  };
  const keystore = join(dir, 'keystore.pem');
  writeFileSync(keystore, readFileSync(pki.serverKeyFile, 'utf8') + readFileSync(pki.serverCertFile, 'utf8'), { mode: 0o600 });
  const props = join(dir, 'server.properties');
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  writeFileSync(
    props,
    [
      'node.id=1',
      'process.roles=broker,controller',
      `listeners=SASL_SSL://127.0.0.1:${saslPort},SSL://127.0.0.1:${sslPort},BROKER://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=SASL_SSL://127.0.0.1:${saslPort},SSL://127.0.0.1:${sslPort},BROKER://127.0.0.1:${brokerPort}`,
      'listener.security.protocol.map=SASL_SSL:SASL_SSL,SSL:SSL,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'inter.broker.listener.name=BROKER',
      'controller.listener.names=CONTROLLER',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `log.dirs=${join(dir, 'data')}`,
      'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
      `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${users.PLAIN.username}="${users.PLAIN.password}";`,
      `listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=${scram}`,
      `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${scram}`,
      'ssl.keystore.type=PEM',
      `ssl.keystore.location=${keystore}`,
      'num.partitions=1',
      'default.replication.factor=1',
      'min.insync.replicas=1',
      'auto.create.topics.enable=true',
      'offsets.topic.replication.factor=1',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'num.network.threads=2',
      'num.io.threads=2',
      'num.recovery.threads.per.data.dir=1',
      '',
    ].join('\n'),
  );
  // A random base64url id starts with '-' once in 64 runs; StorageTool's argument parser then
  // takes `-t <id>` for two options and refuses. The `--cluster-id=<id>` form is never ambiguous.
  const clusterId = randomBytes(16).toString('base64url');
  await runOrThrow('kafka storage format', 'java', [
    ...javaArgs(['-Xms64m', '-Xmx256m'], libs), 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', props,
    '--add-scram', `SCRAM-SHA-256=[name=${users['SCRAM-SHA-256'].username},password=${users['SCRAM-SHA-256'].password}]`,
    '--add-scram', `SCRAM-SHA-512=[name=${users['SCRAM-SHA-512'].username},password=${users['SCRAM-SHA-512'].password}]`,
  ]);
  const child = spawn('java', [...javaArgs(['-Xms128m', '-Xmx512m'], libs), 'kafka.Kafka', props], { stdio: ['ignore', 'pipe', 'pipe'] });
  const daemon = new Daemon('kafka (TLS/SASL test broker)', child, 'SIGKILL');
  await daemon.startedOrStopped('Kafka Server started', 90_000, 1_000);
  const saslSslBrokers = `127.0.0.1:${saslPort}`;
  const sslBrokers = `127.0.0.1:${sslPort}`;
  return {
    saslSslBrokers,
    sslBrokers,
    users,
    clientConfig(protocol, mechanism = 'PLAIN') {
      const base = { 'security.protocol': protocol, 'ssl.ca.location': pki.caFile, 'client.id': 'dionysus-relay-tls-tests' };
      if (protocol === 'ssl') return { ...base, 'metadata.broker.list': sslBrokers };
      const user = users[mechanism];
      return { ...base, 'metadata.broker.list': saslSslBrokers, 'sasl.mechanisms': mechanism, 'sasl.username': user.username, 'sasl.password': user.password };
    },
    output: () => daemon.output(),
    // A throwaway: no graceful shutdown needed, its data folder is deleted next.
    stop: () => daemon.stop('SIGKILL', 5_000),
  };
}

export async function createSecureTopic(config: Record<string, string>, topic: string, partitions: number): Promise<void> {
  const admin = AdminClient.create(config);
  try {
    await new Promise<void>((resolve, reject) =>
      admin.createTopic({ topic, num_partitions: partitions, replication_factor: 1 }, 15_000, (err) => (err ? reject(err) : resolve())),
    );
  } finally {
    admin.disconnect();
  }
}

// ------------------------------------------------------------------------------------ PostgreSQL

const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface SecurePostgres {
  port: number;
  /** Superuser `postgres` with this password, database `postgres`. */
  password: string;
  /** A URL for the relay: host 127.0.0.1 unless given; sslmode added when given. */
  url(options?: { host?: string; sslmode?: string }): string;
  output(): string;
  stop(): Promise<void>;
}

/** uid/gid of the `postgres` OS user when we are root (initdb and postgres refuse to run as root). */
async function postgresOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await runOrThrow('id -u postgres', 'id', ['-u', 'postgres'])).trim());
  const gid = Number((await runOrThrow('id -g postgres', 'id', ['-g', 'postgres'])).trim());
  return { uid, gid };
}

/**
 * A throwaway PostgreSQL 15 cluster in `dir` on a free port: ssl=on with the test PKI's server
 * certificate, no Unix socket, and a pg_hba.conf with hostssl lines only, so every connection it
 * accepts is TLS. It listens on 127.0.0.1 and 127.0.0.2 (on Linux the whole 127/8 is loopback);
 * the certificate names only 127.0.0.1 and localhost, so 127.0.0.2 tells verify-ca from verify-full.
 * Runs as the `postgres` OS user when we are root (as scripts/services.sh does).
 */
export async function startSecurePostgres(dir: string, pki: TestPki): Promise<SecurePostgres> {
  if (!existsSync(join(PG_BIN, 'postgres'))) throw new Error(`${PG_BIN}/postgres missing: run "bash scripts/services.sh start" once (it installs PostgreSQL 15)`);
  const owner = await postgresOwner();
  const asOwner = owner === undefined ? {} : owner;
  mkdirSync(dir, { recursive: true });
  const data = join(dir, 'data');
  const cert = join(dir, 'server.pem');
  const key = join(dir, 'server.key');
  const pwfile = join(dir, 'pwfile');
  const password = secret();
  copyFileSync(pki.serverCertFile, cert);
  copyFileSync(pki.serverKeyFile, key);
  writeFileSync(pwfile, `${password}\n`);
  chmodSync(key, 0o600);
  chmodSync(dir, 0o700);
  if (owner !== undefined) {
    for (const f of [dir, cert, key, pwfile]) chownSync(f, owner.uid, owner.gid);
  }
  await runOrThrow('initdb', join(PG_BIN, 'initdb'), [
    '-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--no-sync', '--no-instructions', '--encoding=UTF8', '--no-locale',
  ], asOwner);
  const hba = join(data, 'pg_hba.conf');
  writeFileSync(hba, 'hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all 127.0.0.2/32 scram-sha-256\n');
  if (owner !== undefined) chownSync(hba, owner.uid, owner.gid);
  const port = await freePort();
  const settings = {
    listen_addresses: '127.0.0.1,127.0.0.2',
    unix_socket_directories: '',
    ssl: 'on',
    ssl_cert_file: cert,
    ssl_key_file: key,
    password_encryption: 'scram-sha-256',
    fsync: 'off',
    max_connections: '50',
    shared_buffers: '32MB',
  };
  const args = ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const child = spawn(join(PG_BIN, 'postgres'), args, { stdio: ['ignore', 'pipe', 'pipe'], ...asOwner });
  // SIGQUIT: immediate shutdown, the postmaster takes its backends down with it.
  const daemon = new Daemon('postgres (TLS test cluster)', child, 'SIGQUIT');
  await daemon.startedOrStopped('database system is ready to accept connections', 30_000, 5_000);
  return {
    port,
    password,
    url({ host = '127.0.0.1', sslmode } = {}) {
      return `postgres://postgres:${password}@${host}:${port}/postgres${sslmode === undefined ? '' : `?sslmode=${sslmode}`}`;
    },
    output: () => daemon.output(),
    stop: () => daemon.stop('SIGQUIT', 10_000),
  };
}
