/** The largest time a JavaScript Date can hold (ECMAScript: ±8.64e15 ms from the epoch). */
const MAX_DATE_MS = 8.64e15;

/**
 * A millisecond time as ISO 8601, or null when there is none or it cannot be a date. Times
 * read from Redis may come from any producer (one that wrote nanoseconds, or text): a
 * field no Date can hold reads as absent rather than failing the whole read or listing.
 */
export function isoTime(ms: string | number | undefined | null): string | null {
  const n = typeof ms === 'number' ? ms : ms ? Number(ms) : Number.NaN;
  return n > 0 && n <= MAX_DATE_MS ? new Date(n).toISOString() : null;
}
