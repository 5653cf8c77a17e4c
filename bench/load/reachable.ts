/**
 * Why `url` cannot be loaded at all (nothing listens there, or nothing answers), or null
 * when it answers HTTP, whatever the status. Asked before the run, so that a wrong --url
 * or a system that is not started reads as that, not as a table of zeros.
 */
export async function unreachable(url: URL, timeoutMs = 5000): Promise<string | null> {
  try {
    const res = await fetch(new URL('/healthz', url), { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return null;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED')
      return `connection refused at ${url.origin}: nothing listens there. Is the API running (npm start), and is --url right?`;
    if ((err as Error).name === 'TimeoutError') return `no answer from ${url.origin} within ${timeoutMs / 1000} s`;
    return `cannot reach ${url.origin}: ${cause?.message ?? (err as Error).message}`;
  }
}
