/** One problem of a 400 `validation_failed` (or a batch's `details[].index`). */
export interface ErrorDetail {
  path?: string;
  message?: string;
  index?: number;
  [field: string]: unknown;
}

/**
 * Every failure of the client but an abort (which rejects with the signal's reason, as
 * fetch does). From an error answer: its HTTP `status` and the body's `code`, `message`
 * and `details`. Without one: status 0 and code `network_error` (the server could not
 * be reached; `cause` says why), `timeout` (a `result` timeout ran out) or
 * `invalid_response` (the answer was not what the API sends).
 */
export class AsyncJobsError extends Error {
  override readonly name = 'AsyncJobsError';
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[] | undefined;
  /** Seconds from `Retry-After` (429, 503), when the server sent one. */
  readonly retryAfter: number | undefined;

  constructor(init: { status: number; code: string; message: string; details?: ErrorDetail[]; retryAfter?: number }, options?: { cause?: unknown }) {
    super(init.message, options);
    this.status = init.status;
    this.code = init.code;
    this.details = init.details;
    this.retryAfter = init.retryAfter;
  }
}

/** The error an answer of `status` with body text `text` stands for. */
export function errorFromResponse(status: number, text: string, retryAfterHeader: string | null): AsyncJobsError {
  const retryAfter = retryAfterHeader !== null && /^\d+$/.test(retryAfterHeader) ? Number(retryAfterHeader) : undefined;
  const body = parseJson(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
  const e = body?.error;
  if (e && typeof e.code === 'string') {
    return new AsyncJobsError({
      status,
      code: e.code,
      message: typeof e.message === 'string' ? e.message : `HTTP ${status}`,
      details: Array.isArray(e.details) ? (e.details as ErrorDetail[]) : undefined,
      retryAfter,
    });
  }
  // Not the API's error body: a proxy's page, say. Its status still says what happened.
  return new AsyncJobsError({ status, code: `http_${status}`, message: `HTTP ${status}`, retryAfter });
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
