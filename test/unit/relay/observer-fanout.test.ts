import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ObserverConfig, TopicConfig } from '../../../src/config/topics-types';
import { handOverFanout } from '../../../src/relay/observer-fanout';

// A fan-out handed to the outbox is read and written a page at a time: each id exactly once, in
// order, and never more than a page of them at hand.

const observer = { name: 'o', model: 'Account', attributes: ['x'], topic: { name: 'v1_rentals' } as TopicConfig, republish: 'Rental', sql: '', path: 'observers.o' } as ObserverConfig;

function relatedIds(count: number): { relatedPage: (o: ObserverConfig, id: string, limit: number, after?: string) => Promise<string[]>; asked: number[] } {
  const ids = Array.from({ length: count }, (_, i) => String(i + 1));
  const asked: number[] = [];
  return {
    asked,
    relatedPage: async (_o, observedId, limit, after) => {
      assert.equal(observedId, '7');
      asked.push(limit);
      const start = after === undefined ? 0 : ids.indexOf(after) + 1;
      return ids.slice(start, start + limit);
    },
  };
}

for (const count of [12, 13, 20, 21]) {
  test(`${count} related records: every id written once, in pages of at most the page size`, async () => {
    const source = relatedIds(count);
    const written: string[][] = [];
    const first = await source.relatedPage(observer, '7', 5);
    const total = await handOverFanout({ all: [observer], relatedPage: source.relatedPage }, { insertFanout: async (cls, ids, event, topic) => {
      assert.deepEqual([cls, event, topic], ['Rental', 'rental_updated', 'v1_rentals']);
      written.push([...ids]);
    } }, observer, '7', first, 4);
    assert.equal(total, count);
    assert.deepEqual(written.flat(), Array.from({ length: count }, (_, i) => String(i + 1)));
    assert.ok(written.every((page) => page.length <= 5 && page.length > 0));
    assert.deepEqual(source.asked.slice(1).every((limit) => limit === 4), true);
  });
}
