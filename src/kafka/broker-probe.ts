import { connect } from 'node:net';
import { RelayError } from '../errors';

/** host:port pairs of a librdkafka broker list (`h1:9092,h2:9092`, `[::1]:9092`; port 9092 when missing). */
export function parseBrokerList(list: string): Array<{ host: string; port: number }> {
  return list
    .split(',')
    .map((entry) => entry.trim().replace(/^[a-z_]+:\/\//i, ''))
    .filter((entry) => entry !== '')
    .map((entry) => {
      const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
      if (bracketed !== null) return { host: bracketed[1] as string, port: Number(bracketed[2] ?? 9092) };
      const colon = entry.lastIndexOf(':');
      if (colon < 0) return { host: entry, port: 9092 };
      return { host: entry.slice(0, colon), port: Number(entry.slice(colon + 1)) };
    });
}

/**
 * True when the producer has had no broker UP for at least `stallMs` (statistics say so), which
 * together with a broker that accepts connections means librdkafka lost its brokers for good.
 */
export function brokerlessTooLong(noBrokerSince: number | undefined, now: number, stallMs: number): boolean {
  return stallMs > 0 && noBrokerSince !== undefined && now - noBrokerSince >= stallMs;
}

/** Whether any broker of the list accepts a TCP connection within `timeoutMs` (no Kafka protocol). */
export async function anyBrokerAccepts(list: string, timeoutMs: number): Promise<boolean> {
  return (await brokersRefusal(list, timeoutMs)) === undefined;
}

/**
 * Undefined when a broker of the list accepts a TCP connection within `timeoutMs`; otherwise why
 * none did, per broker ("127.0.0.1:9092: connect ECONNREFUSED"). A waiting `run` asks this before
 * each librdkafka attempt: it costs no client, and a signal never waits for it.
 */
export async function brokersRefusal(list: string, timeoutMs: number): Promise<string | undefined> {
  const attempts = parseBrokerList(list).map(
    ({ host, port }) =>
      new Promise<string | undefined>((resolve) => {
        const socket = connect({ host, port });
        const done = (failure: string | undefined): void => {
          socket.destroy();
          resolve(failure);
        };
        socket.setTimeout(timeoutMs, () => done(`${host}:${port}: no answer within ${timeoutMs} ms`));
        socket.once('connect', () => done(undefined));
        socket.once('error', (err) => done(`${host}:${port}: ${err.message}`));
      }),
  );
  const failures = await Promise.all(attempts);
  if (failures.length === 0) return 'no broker in the list';
  return failures.some((f) => f === undefined) ? undefined : failures.join('; ');
}

/** A TCP connection to a broker must succeed within this for Kafka to count as answering. */
const BROKER_PROBE_TIMEOUT_MS = 3_000;

/**
 * Resolves when a broker of the list accepts a TCP connection; otherwise throws a retriable
 * KAFKA_UNAVAILABLE whose context.reason says why, for a start that waits for Kafka. Costs no
 * librdkafka client, so a signal meanwhile never waits for a client's connect timeout.
 */
export async function requireBrokerAnswer(brokers: string): Promise<void> {
  const refusal = await brokersRefusal(brokers, BROKER_PROBE_TIMEOUT_MS);
  if (refusal === undefined) return;
  throw new RelayError('KAFKA_UNAVAILABLE', `cannot connect to Kafka: ${refusal} (KAFKA_BROKERS=${brokers})`, {
    retriable: true,
    context: { reason: refusal },
  });
}
