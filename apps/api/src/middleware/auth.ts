import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from '@async-jobs/shared';
import type { RequestHandler } from 'express';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in constant time whatever the lengths, by comparing fixed-size digests. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Bearer-token guard; with no tokens configured every request passes. */
export function bearerAuth(tokens: readonly string[]): RequestHandler {
  return (req, _res, next) => {
    if (tokens.length === 0) return next();
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    const given = m?.[1]?.trim() ?? '';
    // Check every token so the time taken does not depend on which one matched.
    let ok = false;
    for (const t of tokens) ok = safeEqual(given, t) || ok;
    if (ok) return next();
    next(
      new HttpError(401, 'unauthorized', given ? 'the bearer token is not valid' : 'a bearer token is required', undefined, {
        'WWW-Authenticate': 'Bearer realm="async-jobs"',
      }),
    );
  };
}

/** HTTP Basic auth for the operator pages. */
export function basicAuth(username: string, password: string): RequestHandler {
  return (req, res, next) => {
    const m = /^Basic\s+(.+)$/i.exec(req.get('authorization') ?? '');
    const decoded = m ? Buffer.from(m[1], 'base64').toString('utf8') : '';
    const sep = decoded.indexOf(':');
    const user = sep >= 0 ? decoded.slice(0, sep) : '';
    const pass = sep >= 0 ? decoded.slice(sep + 1) : '';
    const ok = safeEqual(user, username) && safeEqual(pass, password);
    if (ok) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="async-jobs admin", charset="UTF-8"');
    res.status(401).json({ error: { code: 'unauthorized', message: 'admin credentials are required' } });
  };
}
