import assert from 'node:assert/strict';
import { test } from 'node:test';
import { removeDuplicates } from '../../../src/sink/dedup';
import type { SinkEvent } from '../../../src/sink/envelope';
import { newJsonObject, type JsonValue } from '../../../src/sink/json-value';

interface Msg {
  readonly name: string;
  readonly events: SinkEvent[] | undefined;
}

function msg(name: string, event: string, id: JsonValue, updatedAt?: string): Msg {
  const record = newJsonObject();
  record['id'] = id;
  if (updatedAt !== undefined) record['updated_at'] = updatedAt;
  return { name, events: [{ eventName: event, modelName: 'User', records: [record], data: [record], exactNumbers: true }] };
}

const NOW = Date.UTC(2030, 0, 1) * 1000;
const at = (fraction: string): string => `2024-01-01T00:00:00.${fraction}Z`;
const names = (list: readonly Msg[]): string[] => list.map((m) => m.name);

test('the contract example: one message per event and id, the newest updated_at, at the first position', () => {
  const batch = [
    msg('created 16', 'user_created', 16, at('100')),
    msg('updated 16 @.5', 'user_updated', 16, at('500')),
    msg('updated 17', 'user_updated', 17, at('100')),
    msg('updated 16 @.7', 'user_updated', 16, at('700')),
    msg('destroyed 16', 'user_destroyed', 16, at('800')),
    msg('updated 16 @.2', 'user_updated', 16, at('200')),
  ];
  const { kept, removed } = removeDuplicates(batch, (m) => m.events, NOW);
  assert.deepEqual(names(kept), ['created 16', 'updated 16 @.7', 'updated 17', 'destroyed 16']);
  assert.deepEqual(names(removed), ['updated 16 @.5', 'updated 16 @.2']);
});

test('a missing updated_at counts as now; the first of equal times wins; "1" and 1 are the same id', () => {
  const batch = [msg('a', 'user_updated', 1, at('900')), msg('b', 'user_updated', '1'), msg('c', 'user_updated', 1, at('900'))];
  assert.deepEqual(names(removeDuplicates(batch, (m) => m.events, NOW).kept), ['b']);
  const tie = [msg('a', 'user_updated', 1, at('900')), msg('c', 'user_updated', 1, at('900'))];
  assert.deepEqual(names(removeDuplicates(tie, (m) => m.events, NOW).kept), ['a']);
});

test('not applied when a message has no event (tombstone), several events, or several records', () => {
  const base = [msg('a', 'user_updated', 1, at('100')), msg('b', 'user_updated', 1, at('200'))];
  const tombstone: Msg = { name: 't', events: undefined };
  const two = msg('two', 'user_updated', 2, at('100'));
  const twoEvents: Msg = { name: 'e2', events: [...(two.events ?? []), ...(two.events ?? [])] };
  const first = two.events?.[0] as SinkEvent;
  const twoRecords: Msg = { name: 'r2', events: [{ ...first, records: [...first.records, ...first.records] }] };
  for (const extra of [tombstone, twoEvents, twoRecords]) {
    const batch = [...base, extra];
    assert.deepEqual(names(removeDuplicates(batch, (m) => m.events, NOW).kept), names(batch), extra.name);
  }
});

test('an unreadable updated_at leaves the batch as it is (no valid update dropped for it)', () => {
  const batch = [msg('a', 'user_updated', 1, at('100')), msg('b', 'user_updated', 1, 'garbage')];
  assert.deepEqual(names(removeDuplicates(batch, (m) => m.events, NOW).kept), ['a', 'b']);
});
