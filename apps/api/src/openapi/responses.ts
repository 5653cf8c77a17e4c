import { ref } from './refs';

const json = (schema: object) => ({ 'application/json': { schema } });
export const retryAfter = { 'Retry-After': { description: 'Seconds to wait before asking again.', schema: { type: 'integer' } } };

/** The error answers of the API, each with the common error body; operations refer to them by name. */
export const errorResponses = {
  BadRequest: {
    description:
      '`invalid_json` (also for an empty body), `validation_failed` (`details` lists each problem with its JSON path and a ' +
      'message naming the field and what it takes; `message` repeats the first) or `unknown_type` (`details` lists the known types).',
    content: json(ref('Error')),
  },
  BadQuery: {
    description:
      '`validation_failed`: a query parameter this operation does not take, or one given twice; or a path whose percent-encoding is broken (`/jobs/%ZZ`).',
    content: json(ref('Error')),
  },
  Unauthorized: {
    description: '`unauthorized`: API_TOKENS is set and the bearer token is missing or wrong.',
    headers: { 'WWW-Authenticate': { schema: { type: 'string' }, description: '`Bearer realm="async-jobs"`' } },
    content: json(ref('Error')),
  },
  NotFound: { description: '`not_found`: no such job; it never existed.', content: json(ref('Error')) },
  Gone: {
    description: '`expired`: the job existed, but its record is past RESULT_TTL_SECONDS.',
    content: json(ref('Error')),
  },
  Conflict: { description: "`conflict`: the action does not fit the job's state.", content: json(ref('Error')) },
  PayloadTooLarge: { description: '`payload_too_large`: body over MAX_BODY_BYTES; the message states the limit in bytes.', content: json(ref('Error')) },
  UnsupportedMediaType: {
    description:
      '`unsupported_media_type`: the body is not JSON (or is sent, not as JSON, to an operation that takes none), or its `charset` or `Content-Encoding` is not one the API reads.',
    content: json(ref('Error')),
  },
  RateLimited: { description: '`rate_limited`: over RATE_LIMIT_PER_MINUTE.', headers: retryAfter, content: json(ref('Error')) },
  Unavailable: {
    description: '`unavailable`: Redis cannot be reached; the request changed nothing.',
    headers: retryAfter,
    content: json(ref('Error')),
  },
} as const;

export type ErrorResponseName = keyof typeof errorResponses;

/** `{ '401': { $ref } ... }` for the named error answers. */
export function errors(...names: ErrorResponseName[]): Record<string, { $ref: string }> {
  const status: Record<ErrorResponseName, string> = {
    BadRequest: '400',
    BadQuery: '400',
    Unauthorized: '401',
    NotFound: '404',
    Gone: '410',
    Conflict: '409',
    PayloadTooLarge: '413',
    UnsupportedMediaType: '415',
    RateLimited: '429',
    Unavailable: '503',
  };
  return Object.fromEntries(names.map((n) => [status[n], { $ref: `#/components/responses/${n}` }]));
}

export const jsonContent = json;

export const jobResponse = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: json(ref('JobResource')),
});
