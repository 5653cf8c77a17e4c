import { createHash } from 'node:crypto';
import { bearerTokenOf, HttpError, isKnownToken } from '@async-jobs/shared';
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';

/** Probes must never be throttled: an orchestrator would restart a healthy API. */
const UNLIMITED = new Set(['/healthz', '/readyz']);

/**
 * RATE_LIMIT_PER_MINUTE requests per minute per client: per API token when the
 * request carries a valid one (so clients behind one proxy do not share a limit),
 * otherwise per IP address (IPv6 per /56, as express-rate-limit advises). Over it:
 * 429 `rate_limited` with `Retry-After`, in the error format. Counts live in this
 * process's memory: with N API processes behind a balancer a client gets up to N
 * times the limit, and a restart forgets the counts.
 */
export function rateLimitPerMinute(limit: number, tokens: readonly string[]): RequestHandler | null {
  if (limit <= 0) return null;
  const tokenKey = (header: string | undefined): string | null => {
    const given = bearerTokenOf(header);
    // A digest, so no token is kept in memory as a key.
    return given && isKnownToken(tokens, given) ? `token:${createHash('sha256').update(given).digest('hex').slice(0, 32)}` : null;
  };
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // As the router matches them: ignoring case and a trailing slash (/HEALTHZ/ is served by /healthz).
    skip: (req) => UNLIMITED.has(req.path.toLowerCase().replace(/\/+$/, '')),
    keyGenerator: (req) => tokenKey(req.get('authorization')) ?? `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`,
    handler: (_req, res, next) => {
      const retryAfter = res.getHeader('Retry-After');
      next(
        new HttpError(429, 'rate_limited', `more than ${limit} requests per minute; retry after ${retryAfter ?? 60} s`, undefined, {
          'Retry-After': String(retryAfter ?? 60),
        }),
      );
    },
  });
}
