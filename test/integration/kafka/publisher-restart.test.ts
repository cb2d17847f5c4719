import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RelayError } from '../../../src/errors';
import { KafkaPublisher } from '../../../src/kafka/publisher';
import { TEST_KAFKA_BROKERS } from '../../helpers/env';
import { TcpProxy } from '../observability/support';

// A waiting `run` calls KafkaPublisher.start() again after each failed attempt. A failed attempt
// must leave no librdkafka client behind (each one runs several native threads), and the same
// publisher must connect once the broker answers.

function threadCount(): number {
  const match = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  if (match === null) throw new Error('no Threads line in /proc/self/status');
  return Number(match[1]);
}

test('failed starts leave no client behind; a later start() of the same publisher connects', async () => {
  const [host = '127.0.0.1', port = '9092'] = TEST_KAFKA_BROKERS.split(',')[0]?.split(':') ?? [];
  const proxy = new TcpProxy(host, Number(port));
  await proxy.start();
  await proxy.cut(); // the port is known and refuses connections: a broker that is down
  const publisher = new KafkaPublisher({
    config: { 'metadata.broker.list': `127.0.0.1:${proxy.port}`, 'client.id': 'dionysus-relay-restart-test' },
    metadataRefreshMs: 60_000,
    connectTimeoutMs: 1_000,
  });
  try {
    const failedStart = async (): Promise<void> =>
      assert.rejects(publisher.start(), (err: unknown) => {
        assert.ok(err instanceof RelayError);
        assert.equal(err.code, 'KAFKA_UNAVAILABLE');
        assert.equal(err.retriable, true);
        assert.match(String(err.context['reason']), /Connection refused/);
        return true;
      });
    // The first attempt also starts threads that stay (libuv's pool): count from after it.
    await failedStart();
    const baseline = threadCount();
    for (let i = 0; i < 5; i += 1) await failedStart();
    assert.ok(threadCount() <= baseline, `threads grew from ${baseline} to ${threadCount()} over 5 failed starts`);
    assert.equal(publisher.isConnected(), false);

    await proxy.restore();
    await publisher.start();
    assert.equal(publisher.isConnected(), true);
  } finally {
    await publisher.stop();
    await proxy.stop();
  }
});
