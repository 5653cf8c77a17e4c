import { HttpError } from '@async-jobs/shared';
import type { RequestHandler } from 'express';
import { sendError } from './error-handler';

/**
 * The last handler of a path in the route table: a method the path does not take is
 * 405 with `Allow` (RFC 9110), not a 404 that says the path does not exist. OPTIONS
 * gets the same list with 204 (CORS preflights are answered earlier, by cors.ts).
 */
export function methodNotAllowed(methods: readonly string[]): RequestHandler {
  const allowed = [...new Set(methods.map((m) => m.toUpperCase()))].sort();
  const allow = allowed.join(', ');
  const takes = allowed.length === 1 ? `${allowed[0]} only` : `${allowed.slice(0, -1).join(', ')} and ${allowed.at(-1)}`;
  return (req, res, next) => {
    // A method the path takes, whose handler passed the request on (an asset that is not there): 404 as before.
    const asked = req.method === 'HEAD' ? 'GET' : req.method;
    if (allowed.includes(asked)) {
      next();
      return;
    }
    res.setHeader('Allow', allow);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    sendError(res, new HttpError(405, 'method_not_allowed', `${req.path} takes ${takes}, not ${req.method}`));
  };
}
