import type { Request, RequestHandler } from 'express';
import type { Metrics } from './registry';

/**
 * The matched route's pattern (`/jobs/:id`), never the raw URL, so ids cannot blow up
 * the label set; requests no route matched (404s, probes) share the label `unmatched`.
 */
function routeLabel(req: Request): string {
  // `baseUrl` is a mount's prefix as the client spelt it, and Express matches mounts ignoring case:
  // ours are literal and lowercase, so lowercasing gives the pattern (and /AdMiN no label of its own).
  const base = req.baseUrl.toLowerCase();
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path === 'string') return `${base}${path}`;
  // A mounted app that serves without a route of its own (Bull Board's static files).
  return base ? `${base}/*` : 'unmatched';
}

/** Times every request from arrival to the end of its response (or to a dropped connection). */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    // on/off rather than once: once() wraps each listener in a bound function and a state
    // object, which every held long-poll would keep for its whole wait.
    const record = () => {
      res.off('finish', record);
      res.off('close', record);
      const seconds = (performance.now() - started) / 1000;
      metrics.httpDuration.observe({ method: req.method, route: routeLabel(req), status: String(res.statusCode) }, seconds);
    };
    res.on('finish', record);
    res.on('close', record);
    next();
  };
}
