import type { Logger } from '@async-jobs/shared';
import type { Request, RequestHandler } from 'express';

let lastId = 0;

/**
 * One line per request once it is answered (or the client went away), with the fields
 * pino-http wrote: reqId, method and path (headers may carry credentials, so no more),
 * status and responseTime in ms; 'request errored' for a 5xx. A single listener pair and
 * no child logger per request: under load and with thousands of held long-polls, a
 * per-request logger was a noticeable share of the API's CPU and memory.
 */
export function accessLog(logger: Logger, ignore: (req: Request) => boolean): RequestHandler {
  return (req, res, next) => {
    if (ignore(req)) return next();
    const reqId = ++lastId;
    const started = Date.now();
    const done = () => {
      res.off('finish', done);
      res.off('close', done);
      const status = res.statusCode;
      const line = { reqId, req: { method: req.method, url: req.originalUrl }, res: { status }, responseTime: Date.now() - started };
      if (status >= 500) logger.info({ ...line, err: { message: `failed with status code ${status}` } }, 'request errored');
      else logger.info(line, 'request completed');
    };
    res.on('finish', done);
    res.on('close', done);
    next();
  };
}
