import type { Request, RequestHandler } from 'express';
import type { Metrics } from './registry';

/**
 * The matched route's pattern (`/jobs/:id`), never the raw URL, so ids cannot blow up
 * the label set; requests no route matched (404s, probes) share the label `unmatched`.
 */
function routeLabel(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path === 'string') return `${req.baseUrl}${path}`;
  // A mounted app that serves without a route of its own (Bull Board's static files).
  return req.baseUrl ? `${req.baseUrl}/*` : 'unmatched';
}

/** Times every request from arrival to the end of its response (or to a dropped connection). */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    let done = false;
    const record = () => {
      if (done) return;
      done = true;
      stop({ method: req.method, route: routeLabel(req), status: String(res.statusCode) });
    };
    res.once('finish', record);
    res.once('close', record);
    next();
  };
}
