/**
 * Reads the few numbers the relay exports from librdkafka's statistics JSON (emitted every
 * `statistics.interval.ms`, see librdkafka's STATISTICS.md). Pure: the blob is untrusted input,
 * so anything missing or of the wrong type is skipped rather than reported as 0.
 */

export interface BrokerStats {
  /** librdkafka's broker name, e.g. `kafka-1:9092/1`; bounded by the cluster's brokers. */
  readonly broker: string;
  /**
   * `rtt.avg` (µs) in seconds; undefined when no request was answered in the window (librdkafka
   * then reports avg 0, which means "unknown", not "instant": an idle producer sends nothing).
   */
  readonly rttSeconds: number | undefined;
}

export interface KafkaStatsSummary {
  /** Top-level `msg_cnt`: messages in the producer's local queues (not yet acknowledged). */
  readonly queueMessages: number | undefined;
  /** The network brokers the producer knows (internal and logical entries left out). */
  readonly brokers: readonly BrokerStats[];
}

const MICROSECONDS_PER_SECOND = 1_000_000;

/** Broker entries that are not network brokers: internal (`:0/internal`) and logical ones. */
const NON_NETWORK_SOURCES = new Set(['internal', 'logical']);

export function summarizeKafkaStats(stats: unknown): KafkaStatsSummary {
  if (!isRecord(stats)) return { queueMessages: undefined, brokers: [] };
  const queueMessages = finiteNumber(stats['msg_cnt']);
  const result: BrokerStats[] = [];
  const brokers = stats['brokers'];
  if (isRecord(brokers)) {
    for (const [key, entry] of Object.entries(brokers)) {
      if (!isRecord(entry)) continue;
      const source = entry['source'];
      if (typeof source === 'string' && NON_NETWORK_SOURCES.has(source)) continue;
      const rtt = isRecord(entry['rtt']) ? entry['rtt'] : {};
      const avg = finiteNumber(rtt['avg']);
      const samples = finiteNumber(rtt['cnt']);
      const measured = avg !== undefined && samples !== undefined && samples > 0;
      const name = typeof entry['name'] === 'string' ? entry['name'] : key;
      result.push({ broker: name, rttSeconds: measured ? avg / MICROSECONDS_PER_SECOND : undefined });
    }
  }
  return { queueMessages, brokers: result };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
