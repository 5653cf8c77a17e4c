import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in constant time whatever the lengths, by comparing fixed-size digests. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The bearer token an Authorization header carries, or '' when it carries none. */
export const bearerTokenOf = (header: string | undefined): string => /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';

/** Whether `given` is one of `tokens`, checking every one so that the time taken does not tell which matched. */
export function isKnownToken(tokens: readonly string[], given: string): boolean {
  let ok = false;
  for (const t of tokens) ok = safeEqual(given, t) || ok;
  return ok;
}

/**
 * Whether an Authorization header carries one of `tokens` as a bearer token; with no
 * tokens configured everything passes. Used by the API and by a worker's /metrics.
 */
export function bearerTokenValid(tokens: readonly string[], header: string | undefined): 'ok' | 'missing' | 'invalid' {
  if (tokens.length === 0) return 'ok';
  const given = bearerTokenOf(header);
  return isKnownToken(tokens, given) ? 'ok' : given ? 'invalid' : 'missing';
}
