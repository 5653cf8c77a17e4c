import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout; credentials are redacted wherever they appear in a log object. */
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
  return destination ? pino(opts, destination as pino.DestinationStream) : pino(opts);
}
