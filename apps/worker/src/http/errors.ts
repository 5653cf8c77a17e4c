import { UnrecoverableError } from 'bullmq';

/** The URL, or a redirect, points at a host outside HTTP_ALLOWED_HOSTS; never retried. */
export class HostNotAllowedError extends UnrecoverableError {
  override name = 'HostNotAllowedError';
}

export class TooManyRedirectsError extends UnrecoverableError {
  override name = 'TooManyRedirectsError';
}

export class ResponseTooLargeError extends UnrecoverableError {
  override name = 'ResponseTooLargeError';
}

/** The request itself cannot be sent as given (e.g. a body on GET); never retried. */
export class InvalidRequestError extends UnrecoverableError {
  override name = 'InvalidRequestError';
}

/** A 5xx answer: the server may recover, so the attempt fails and BullMQ retries. */
export class HttpStatusError extends Error {
  override name = 'HttpStatusError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Connection refused, DNS failure, reset...: retryable. */
export class NetworkError extends Error {
  override name = 'NetworkError';
}

/** No complete answer within HTTP_TIMEOUT_MS: retryable, the server may be quicker next time. */
export class HttpTimeoutError extends Error {
  override name = 'HttpTimeoutError';
}
