/** An error that maps to one HTTP answer of the contract in docs/http-api.md. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const notFound = (what = 'job') => new HttpError(404, 'not_found', `no such ${what}`);
export const unavailable = () => new HttpError(503, 'unavailable', 'Redis cannot be reached; the request changed nothing', undefined, { 'Retry-After': '1' });
