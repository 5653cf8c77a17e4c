import { HttpError } from '@async-jobs/shared';
import type { RequestHandler } from 'express';

/**
 * The last handler of a path in the route table: a method the path does not take is
 * 405 with `Allow` (RFC 9110), not a 404 that says the path does not exist. OPTIONS
 * gets the same list with 204 (CORS preflights are answered earlier, by cors.ts).
 */
export function methodNotAllowed(methods: readonly string[]): RequestHandler {
  const upper = methods.map((m) => m.toUpperCase());
  // Express answers HEAD wherever it serves GET, so HEAD is a method the path takes too.
  const allowed = [...new Set(upper.includes('GET') ? [...upper, 'HEAD'] : upper)].sort();
  const allow = allowed.join(', ');
  const takes = allowed.length === 1 ? `${allowed[0]} only` : `${allowed.slice(0, -1).join(', ')} and ${allowed.at(-1)}`;
  return (req, res, next) => {
    // A method the path takes, whose handler passed the request on (an asset that is not there): 404 as before.
    if (allowed.includes(req.method)) {
      next();
      return;
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Allow', allow).status(204).end();
      return;
    }
    next(new HttpError(405, 'method_not_allowed', `${req.path} takes ${takes}, not ${req.method}`, undefined, { Allow: allow }));
  };
}
