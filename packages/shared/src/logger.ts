import { pino, type Logger } from 'pino';
import { coalesceConnectionErrors } from './connection-error-log';

export type { Logger };

/**
 * JSON lines on stdout (or `destination`); credentials are redacted wherever they appear in a
 * log object, and a Redis outage's repeated connection errors are coalesced (connection-error-log.ts).
 */
export function createLogger(name: string, level = 'info', destination?: NodeJS.WritableStream): Logger {
  let logger: Logger | undefined;
  const opts = {
    name,
    level,
    base: { name, pid: process.pid },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'password', 'token', '*.password', '*.token'],
      censor: '***',
    },
    hooks: { logMethod: coalesceConnectionErrors(() => logger) },
  };
  // Asynchronous stdout: lines written while a write is in flight go out together, off the
  // event loop (one write per burst instead of one per line); pino flushes what is left on exit.
  logger = pino(opts, (destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: false }));
  return logger;
}
