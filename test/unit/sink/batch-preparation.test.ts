import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SinkTopicConfig } from '../../../src/config/sink-types';
import { prepareBatch, type ConsumedMessage, type PreparationContext } from '../../../src/sink/batch-preparation';
import { resolver, SYNCED, target } from './targets';

const topic: SinkTopicConfig = { key: 'users', name: 'ns_users', softDelete: 'cancel', onPoison: 'dead_letter', deadLetterTopic: 'dead', strictMapping: true, path: 'topics.users' };
const ctx = (overrides: Partial<SinkTopicConfig> = {}): PreparationContext => ({
  topic: { ...topic, ...overrides },
  resolve: resolver({ User: target('User', 'users', SYNCED) }),
  inbox: false,
  nowMicros: Date.UTC(2030, 0, 1) * 1000,
});

let offset = 0;
function message(value: string | null): ConsumedMessage {
  return { topic: 'ns_users', partition: 0, offset: offset++, key: 'User:1', value: value === null ? null : Buffer.from(value), timestamp: undefined };
}
const update = (id: number, at: string, model = 'User'): string =>
  JSON.stringify({ message: [{ event: `${model.toLowerCase()}_updated`, model_name: model, data: [{ id, updated_at: `2024-01-01T00:00:00.${at}Z`, links: {} }] }] });

test('poison messages are set aside and the rest is de-duplicated and planned', () => {
  const batch = [message(update(1, '100')), message('not json'), message(update(1, '300')), message(update(2, '100', 'Rental')), message(update(3, '100'))];
  const prepared = prepareBatch(batch, ctx());
  assert.deepEqual(
    prepared.poison.map((p) => [p.message.offset - (batch[0] as ConsumedMessage).offset, p.code]),
    [
      [1, 'SINK_MESSAGE_INVALID'],
      [3, 'SINK_MODEL_UNMAPPED'],
    ],
  );
  assert.deepEqual(prepared.planned.map((p) => p.message), [batch[2], batch[4]]);
  assert.equal(prepared.duplicates, 1);
  assert.equal(prepared.stopAt, undefined);
  assert.equal(prepared.segments.length, 1);
});

test('on_poison: stop prepares only what comes before the first poison message', () => {
  const batch = [message(update(1, '100')), message(update(2, '100', 'Rental')), message(update(3, '100')), message('not json')];
  const prepared = prepareBatch(batch, ctx({ onPoison: 'stop' }));
  assert.equal(prepared.stopAt?.message, batch[1]);
  assert.equal(prepared.stopAt?.code, 'SINK_MODEL_UNMAPPED');
  assert.deepEqual(prepared.planned.map((p) => p.message), [batch[0]]);
  assert.deepEqual(prepared.poison, []);
});

test('tombstones are counted and turn de-duplication off', () => {
  const batch = [message(update(1, '100')), message(null), message(update(1, '300'))];
  const prepared = prepareBatch(batch, ctx());
  assert.equal(prepared.tombstones, 1);
  assert.equal(prepared.duplicates, 0);
  assert.deepEqual(prepared.planned.map((p) => p.message), [batch[0], batch[2]]);
  assert.equal(prepared.segments.length, 2, 'the same row twice: two segments, in order');
});
