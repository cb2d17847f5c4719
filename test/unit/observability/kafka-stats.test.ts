import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarizeKafkaStats } from '../../../src/observability/kafka-stats';

// Shaped like librdkafka 2.x's statistics JSON (STATISTICS.md), trimmed to the fields read.
const SAMPLE = {
  name: 'dionysus-relay#producer-1',
  type: 'producer',
  msg_cnt: 37,
  msg_size: 4096,
  brokers: {
    '127.0.0.1:9092/bootstrap': { name: '127.0.0.1:9092/bootstrap', nodeid: -1, source: 'configured', state: 'INIT', rtt: { avg: 0, cnt: 0 } },
    'kafka-1:9092/1': { name: 'kafka-1:9092/1', nodeid: 1, source: 'learned', state: 'UP', rtt: { min: 200, max: 900, avg: 450, cnt: 12 } },
    'GroupCoordinator/1': { name: 'GroupCoordinator/1', nodeid: 1, source: 'logical', state: 'UP', rtt: { avg: 300, cnt: 2 } },
    ':0/internal': { name: ':0/internal', nodeid: -1, source: 'internal', state: 'UP', rtt: { avg: 0, cnt: 0 } },
  },
};

test('queue size and the RTT of network brokers, µs → s', () => {
  const summary = summarizeKafkaStats(SAMPLE);
  assert.equal(summary.queueMessages, 37);
  assert.deepEqual(summary.brokers, [
    { broker: '127.0.0.1:9092/bootstrap', rttSeconds: undefined },
    { broker: 'kafka-1:9092/1', rttSeconds: 0.00045 },
  ]);
});

test('anything that is not statistics yields nothing instead of zeros', () => {
  for (const junk of [null, undefined, 'text', 42, [], { msg_cnt: 'many', brokers: [] }, { brokers: { x: null, y: { rtt: 'fast' } } }]) {
    const summary = summarizeKafkaStats(junk);
    assert.equal(summary.queueMessages, undefined, JSON.stringify(junk));
    for (const b of summary.brokers) assert.equal(b.rttSeconds, undefined);
  }
});
