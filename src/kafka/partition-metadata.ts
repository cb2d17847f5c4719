import type { Metadata } from 'node-rdkafka';
import { RelayError, errorMessage } from '../errors';
import { sleep } from '../lifecycle/sleep';

/** Tries of a metadata request for a topic that has no partitions yet (being auto-created). */
const CREATION_TRIES = 5;
const CREATION_PAUSE_MS = 200;

/**
 * Partition counts of the topics a batch sends to, from broker metadata, refreshed when older than
 * `refreshMs`. Message building is synchronous, so the counts are fetched first (refresh) and then
 * read (count).
 */
export class PartitionMetadata {
  private readonly counts = new Map<string, { count: number; fetchedAt: number }>();

  constructor(
    private readonly fetchMetadata: (topic: string) => Promise<Metadata>,
    private readonly refreshMs: number,
  ) {}

  async refresh(topics: Iterable<string>): Promise<void> {
    const now = Date.now();
    for (const topic of topics) {
      const cached = this.counts.get(topic);
      if (cached !== undefined && now - cached.fetchedAt < this.refreshMs) continue;
      const count = await this.fetchCount(topic);
      this.counts.set(topic, { count, fetchedAt: Date.now() });
    }
  }

  /** Synchronous lookup after refresh(); throws for a topic that was not refreshed. */
  count(topic: string): number {
    const cached = this.counts.get(topic);
    if (cached === undefined) throw new Error(`partition count of ${topic} is unknown (refreshPartitions first)`);
    return cached.count;
  }

  private async fetchCount(topic: string): Promise<number> {
    // A metadata request for a missing topic asks the broker to create it (when the broker allows
    // auto-creation); the partitions appear after a moment, hence a few tries.
    for (let attempt = 1; ; attempt++) {
      const metadata = await this.fetchMetadata(topic).catch((err: unknown) => {
        throw new RelayError('KAFKA_UNAVAILABLE', `metadata request for ${topic} failed: ${errorMessage(err)}`, { cause: err, retriable: true });
      });
      const entry = metadata.topics.find((t) => t.name === topic);
      const count = entry?.partitions.length ?? 0;
      if (count > 0) return count;
      if (attempt >= CREATION_TRIES) {
        throw new RelayError('KAFKA_TOPIC_UNAVAILABLE', `topic ${topic} does not exist and was not auto-created`, { context: { topic } });
      }
      await sleep(CREATION_PAUSE_MS * attempt);
    }
  }
}
