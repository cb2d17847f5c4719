import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export interface LogSettings {
  level: string;
  format: 'auto' | 'json' | 'pretty';
}

/**
 * Paths pino blanks in every line, wherever a caller puts a secret by mistake. Error messages
 * are already built from redacted URLs (see postgres/pool.ts redactUrl).
 */
const REDACT_PATHS = [
  'password',
  '*.password',
  'connectionString',
  '*.connectionString',
  'url',
  '*.url',
  '["sasl.password"]',
  '*["sasl.password"]',
  '["sasl.username"]',
  '*["sasl.username"]',
];

/** JSON lines by default; human-readable on a terminal (or with LOG_FORMAT=pretty). */
export function createLogger(settings: LogSettings, stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout): Logger {
  const usePretty = settings.format === 'pretty' || (settings.format === 'auto' && stream.isTTY === true);
  const options = {
    name: 'dionysus-relay',
    level: settings.level,
    redact: { paths: REDACT_PATHS, censor: '***' },
    base: { pid: process.pid },
  };
  if (usePretty) {
    return pino(options, pretty({ destination: stream, colorize: stream.isTTY === true, sync: true, ignore: 'pid,hostname,name' }));
  }
  // Synchronous writes: a line logged just before exit (a fatal start-up error) is never lost.
  return pino(options, stream === process.stdout ? pino.destination({ dest: 1, sync: true }) : stream);
}

export type { Logger };
