import { connect } from 'node:net';

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
  const attempts = parseBrokerList(list).map(
    ({ host, port }) =>
      new Promise<boolean>((resolve) => {
        const socket = connect({ host, port });
        const done = (ok: boolean): void => {
          socket.destroy();
          resolve(ok);
        };
        socket.setTimeout(timeoutMs, () => done(false));
        socket.once('connect', () => done(true));
        socket.once('error', () => done(false));
      }),
  );
  return (await Promise.all(attempts)).some(Boolean);
}
