import { bearerTokenValid, HttpError, safeEqual } from '@async-jobs/shared';
import type { RequestHandler } from 'express';

/** Bearer-token guard; with no tokens configured every request passes. */
export function bearerAuth(tokens: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    const auth = bearerTokenValid(tokens, req.get('authorization'));
    if (auth === 'ok') return next();
    next(
      new HttpError(401, 'unauthorized', auth === 'invalid' ? 'the bearer token is not valid' : 'a bearer token is required', undefined, {
        'WWW-Authenticate': 'Bearer realm="async-jobs"',
      }),
    );
  };
}

/** HTTP Basic auth for the operator pages. */
export function basicAuth(username: string, password: string, refusal = 'admin credentials are required'): RequestHandler {
  return (req, _res, next) => {
    const m = /^Basic\s+(.+)$/i.exec(req.get('authorization') ?? '');
    const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
    const sep = decoded.indexOf(':');
    const user = sep >= 0 ? decoded.slice(0, sep) : '';
    const pass = sep >= 0 ? decoded.slice(sep + 1) : '';
    // Both compared whatever the first says: a wrong user name must take as long as a wrong password.
    const userOk = safeEqual(user, username);
    const passOk = safeEqual(pass, password);
    if (userOk && passOk) return next();
    next(new HttpError(401, 'unauthorized', refusal, undefined, { 'WWW-Authenticate': 'Basic realm="async-jobs admin", charset="UTF-8"' }));
  };
}
