import type { Statement } from './statement';

/**
 * Does the server answer? Readiness probes it every few seconds, commands before they start, and a
 * batch waiting for delivery reports on its claim connection, so that its session does not count as
 * idle in transaction (only a dead or frozen relay should lose its locks).
 */
export const PING: Statement = { name: 'dionysus_relay_ping', text: 'SELECT 1' };

/** The channel the optional insert trigger notifies (sql/optional/notify_trigger.sql). */
export const NOTIFY_CHANNEL = 'dionysus_relay_outbox';

/** Subscribes a dedicated session to NOTIFY_CHANNEL (simple protocol: LISTEN takes no parameters). */
export const LISTEN = `LISTEN ${NOTIFY_CHANNEL}`;
