import type { ObserverConfig } from '../config/topics-types';
import { updatedTarget } from '../domain/publish-targets';
import type { FanoutWriter, ObserverTargets } from './batch-ports';

/** Related ids read and written per round trip of a fan-out handed to the outbox. */
export const FANOUT_PAGE_SIZE = 5000;

/**
 * Writes an observer's fan-out as outbox rows of its topic, in the batch's transaction, one page of
 * ids at a time (keyset pagination, observer-sql.ts): however many records an observed change
 * reaches, the relay holds one page of ids, never all of them. `firstPage` is the page the caller
 * already read (in id order). Returns how many rows were written.
 */
export async function handOverFanout(
  observers: ObserverTargets,
  batch: FanoutWriter,
  observer: ObserverConfig,
  observedId: string,
  firstPage: readonly string[],
  pageSize = FANOUT_PAGE_SIZE,
): Promise<number> {
  const event = updatedTarget(observer.topic, observer.republish, '').eventName;
  let page = firstPage;
  let more = true;
  let written = 0;
  while (page.length > 0) {
    await batch.insertFanout(observer.republish, page, event, observer.topic.name);
    written += page.length;
    if (!more) break;
    page = await observers.relatedPage(observer, observedId, pageSize, page[page.length - 1]);
    // A page shorter than asked for is the last one.
    more = page.length === pageSize;
  }
  return written;
}
