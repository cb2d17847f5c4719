import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeliveryReport } from 'node-rdkafka';
import { BatchDeliveries, DeliveryTracker } from '../../../src/kafka/delivery-tracker';
import { anyBrokerUp } from '../../../src/kafka/stall-watchdog';
import { RelayError } from '../../../src/errors';

const report = (opaque: number, topic = 't'): DeliveryReport => ({ opaque, topic, partition: 0, offset: 0, key: null, size: 0 }) as DeliveryReport;

test('a batch settles once every message has its report, in message order, failures in their slot', async () => {
  const tracker = new DeliveryTracker(() => undefined, 60_000);
  const batch = new BatchDeliveries(3);
  const opaques = [0, 1, 2].map((i) => {
    const opaque = tracker.takeOpaque();
    tracker.track(opaque, batch, i, 't');
    return opaque;
  });
  assert.equal(tracker.size, 3);
  tracker.onReport(null, report(opaques[2] as number));
  tracker.onReport(Object.assign(new Error('Broker: Message size too large'), { code: -1 }) as never, report(opaques[0] as number));
  tracker.onReport(undefined, report(opaques[1] as number));
  const outcomes = await batch.settled;
  assert.equal(outcomes[0]?.code, 'MESSAGE_TOO_LARGE');
  assert.deepEqual(outcomes.slice(1), [null, null]);
  assert.equal(tracker.size, 0);
  assert.equal(tracker.polling, false);
});

test('failAll settles what is still waiting; unknown reports are ignored; an empty batch is settled at once', async () => {
  const tracker = new DeliveryTracker(() => undefined, 60_000);
  const batch = new BatchDeliveries(2);
  tracker.track(tracker.takeOpaque(), batch, 0, 'a');
  tracker.track(tracker.takeOpaque(), batch, 1, 'b');
  tracker.onReport(null, report(999));
  tracker.failAll((topic) => new RelayError('KAFKA_UNAVAILABLE', `stopped before ${topic}`, { retriable: true }));
  assert.deepEqual((await batch.settled).map((o) => o?.message), ['stopped before a', 'stopped before b']);
  assert.deepEqual(await new BatchDeliveries(0).settled, []);
  const skipped = new BatchDeliveries(2);
  skipped.skipFrom(0);
  assert.deepEqual(await skipped.settled, [null, null]);
});

test('brokers are up when a real broker (not a bootstrap entry) is UP; unknown without real brokers', () => {
  assert.equal(anyBrokerUp({ brokers: { a: { nodeid: 1, state: 'UP' }, boot: { nodeid: -1, state: 'INIT' } } }), true);
  assert.equal(anyBrokerUp({ brokers: { a: { nodeid: 1, state: 'DOWN' } } }), false);
  assert.equal(anyBrokerUp({ brokers: { boot: { nodeid: -1, state: 'UP' } } }), undefined);
  assert.equal(anyBrokerUp({}), undefined);
  assert.equal(anyBrokerUp(null), undefined);
});
