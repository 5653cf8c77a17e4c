import { HttpError } from '@async-jobs/shared';
import type { RequestHandler } from 'express';

/** What a browser page may send and read across origins; everything else stays same-origin. */
const ALLOW_METHODS = 'GET, POST, PUT, DELETE';
const ALLOW_HEADERS = 'Authorization, Content-Type, Idempotency-Key, Last-Event-ID';
const EXPOSE_HEADERS = 'Location, Retry-After, Idempotent-Replayed, RateLimit, RateLimit-Policy';
const MAX_AGE_SECONDS = '600';

/**
 * CORS, closed unless CORS_ORIGINS names origins (`*` for any). An allowed origin's
 * requests get `Access-Control-Allow-Origin` with that origin and its preflights a
 * 204; a preflight from any other origin is refused (403), and its other requests
 * are served as to any client, without CORS headers, so a browser will not let the
 * page read them. Credentials are bearer tokens the page sends itself, so no
 * `Allow-Credentials` (cookies are never used).
 */
export function cors(origins: readonly string[]): RequestHandler {
  const any = origins.includes('*');
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  return (req, res, next) => {
    const origin = req.get('origin');
    const isPreflight = req.method === 'OPTIONS' && origin !== undefined && req.get('access-control-request-method') !== undefined;
    if (origin === undefined) return next();
    res.vary('Origin');
    if (!any && !allowed.has(origin.toLowerCase())) {
      if (isPreflight) return next(new HttpError(403, 'forbidden', 'this origin may not call the API from a browser (see CORS_ORIGINS)'));
      return next();
    }
    res.setHeader('Access-Control-Allow-Origin', any ? '*' : origin);
    if (!isPreflight) {
      res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
      return next();
    }
    res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
    res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
    res.setHeader('Access-Control-Max-Age', MAX_AGE_SECONDS);
    res.status(204).end();
  };
}
