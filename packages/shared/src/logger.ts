import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout (or `destination`); credentials are redacted wherever they appear in a log object. */
export function createLogger(name: string, level = 'info', destination?: NodeJS.WritableStream): Logger {
  const opts = {
    name,
    level,
    base: { name, pid: process.pid },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', 'password', 'token', '*.password', '*.token'],
      censor: '***',
    },
  };
  // Asynchronous stdout: lines written while a write is in flight go out together, off the
  // event loop (one write per burst instead of one per line); pino flushes what is left on exit.
  return pino(opts, (destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 1, sync: false }));
}
