import type { RedisClient } from './redis';

/**
 * Every error `code` the API answers with, and its status: the table of docs/http-api.md
 * "Errors" (test/api.error-codes.test.ts holds the two together). Codes are stable: clients
 * branch on them.
 */
export const errorCodes = {
  invalid_json: 400,
  validation_failed: 400,
  unknown_type: 400,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  expired: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  expectation_failed: 417,
  rate_limited: 429,
  headers_too_large: 431,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** An error that maps to one HTTP answer of the contract in docs/http-api.md. */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const notFound = (what = 'job') => new HttpError(404, 'not_found', `no such ${what}`);
export const unavailable = () => new HttpError(503, 'unavailable', 'Redis cannot be reached; the request changed nothing', undefined, { 'Retry-After': '1' });

/**
 * Refuses at once, before writing anything, when any of the connections is not up. Name
 * the API's queue connection wherever a request goes through BullMQ's queues: a Queue whose
 * connection has not been ready since it was made waits for it without end (BullMQ awaits
 * 'ready' before each command), where our own commands fail at once (no offline queue).
 */
export function assertRedisReady(...connections: RedisClient[]): void {
  for (const redis of connections) if (redis.status !== 'ready') throw unavailable();
}
