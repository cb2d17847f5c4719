/** Where the services started by `npm run services` listen; env vars override for other setups. */
export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://dionysus:dionysus@127.0.0.1:5432/dionysus_relay';
export const TEST_KAFKA_BROKERS = process.env['TEST_KAFKA_BROKERS'] ?? '127.0.0.1:9092';

/** A short random suffix for schema and topic names, so tests never share state. */
export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
