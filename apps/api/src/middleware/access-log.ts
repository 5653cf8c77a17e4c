import { fixedFieldLogger, type Logger } from '@async-jobs/shared';
import type { Request, RequestHandler } from 'express';

let lastId = 0;

/**
 * One line per request once it is answered (or the client went away), with the fields
 * pino-http wrote: reqId, method and path (headers may carry credentials, so no more),
 * status and responseTime in ms; 'request errored' for a 5xx. A client that went away
 * before its answer ended (a long-poll given up, an event stream closed) gets 'request
 * aborted', with the status only if it was sent: Express's default 200 on an answer never
 * sent would say that a held request was answered. A single listener pair and
 * no child logger per request: under load and with thousands of held long-polls, a
 * per-request logger was a noticeable share of the API's CPU and memory. The line's fields
 * are these and no others, so it skips the logger's redaction (fixedFieldLogger).
 */
export function accessLog(given: Logger, ignore: (req: Request) => boolean): RequestHandler {
  const logger = fixedFieldLogger(given);
  return (req, res, next) => {
    if (ignore(req)) return next();
    const reqId = ++lastId;
    const started = Date.now();
    const done = () => {
      res.off('finish', done);
      res.off('close', done);
      const status = res.statusCode;
      const request = { method: req.method, url: req.originalUrl };
      const responseTime = Date.now() - started;
      if (!res.writableFinished) {
        logger.info({ reqId, req: request, res: { status: res.headersSent ? status : null }, responseTime }, 'request aborted');
        return;
      }
      const line = { reqId, req: request, res: { status }, responseTime };
      if (status >= 500) logger.info({ ...line, err: { message: `failed with status code ${status}` } }, 'request errored');
      else logger.info(line, 'request completed');
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
