import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { anyBrokerAccepts, brokerlessTooLong, brokersRefusal, parseBrokerList } from '../../../src/kafka/broker-probe';

test('broker lists: host:port, default port, IPv6 in brackets, protocol prefixes and spaces', () => {
  assert.deepEqual(parseBrokerList('k1:9093, k2 ,[::1]:9094,[fe80::1],SSL://k3:19092'), [
    { host: 'k1', port: 9093 },
    { host: 'k2', port: 9092 },
    { host: '::1', port: 9094 },
    { host: 'fe80::1', port: 9092 },
    { host: 'k3', port: 19092 },
  ]);
  assert.deepEqual(parseBrokerList(''), []);
});

test('brokerless too long only after the whole stall time, never when off or when a broker is up', () => {
  assert.equal(brokerlessTooLong(1_000, 60_999, 60_000), false);
  assert.equal(brokerlessTooLong(1_000, 61_000, 60_000), true);
  assert.equal(brokerlessTooLong(undefined, 1e12, 60_000), false);
  assert.equal(brokerlessTooLong(1_000, 1e12, 0), false);
});

test('anyBrokerAccepts: true when one listed address accepts TCP, false when none does', async () => {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as { port: number }).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  try {
    assert.equal(await anyBrokerAccepts(`127.0.0.1:${closedPort},127.0.0.1:${port}`, 2000), true);
    assert.equal(await anyBrokerAccepts(`127.0.0.1:${closedPort}`, 2000), false);
    // Why not, per broker, for the log and /readyz of a relay waiting for Kafka.
    assert.equal(await brokersRefusal(`127.0.0.1:${closedPort},127.0.0.1:${port}`, 2000), undefined);
    assert.equal(
      await brokersRefusal(`127.0.0.1:${closedPort},127.0.0.1:${closedPort}`, 2000),
      `127.0.0.1:${closedPort}: connect ECONNREFUSED 127.0.0.1:${closedPort}; 127.0.0.1:${closedPort}: connect ECONNREFUSED 127.0.0.1:${closedPort}`,
    );
    assert.equal(await brokersRefusal('', 2000), 'no broker in the list');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
