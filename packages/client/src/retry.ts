import { AsyncJobsError } from './errors';

/** Failed attempts in a row that `result` and `events` retry before they reject (RetryOptions.maxRetries). */
export const DEFAULT_MAX_RETRIES = 8;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;

/** A failure that asking again may cure: no answer at all, or an overloaded or restarting server. */
export function isTransient(err: unknown): err is AsyncJobsError {
  return err instanceof AsyncJobsError && (err.code === 'network_error' || [429, 502, 503, 504].includes(err.status));
}

/**
 * How long to wait before attempt `failures + 1`: what the server's Retry-After asks, else
 * `base` (250 ms, or what an event stream's `retry:` set) doubled for each failure in a row
 * after the first, up to 5 s.
 */
export function retryDelayMs(failures: number, err?: AsyncJobsError, base = FIRST_DELAY_MS): number {
  if (err?.retryAfter !== undefined) return err.retryAfter * 1000;
  return Math.min(MAX_DELAY_MS, base * 2 ** Math.max(0, failures - 1));
}
