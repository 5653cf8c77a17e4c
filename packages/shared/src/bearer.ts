import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares in constant time whatever the lengths, by comparing fixed-size digests. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Whether an Authorization header carries one of `tokens` as a bearer token; with no
 * tokens configured everything passes. Used by the API and by a worker's /metrics.
 */
export function bearerTokenValid(tokens: readonly string[], header: string | undefined): 'ok' | 'missing' | 'invalid' {
  if (tokens.length === 0) return 'ok';
  const given = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
  // Check every token so the time taken does not depend on which one matched.
  let ok = false;
  for (const t of tokens) ok = safeEqual(given, t) || ok;
  return ok ? 'ok' : given ? 'invalid' : 'missing';
}
