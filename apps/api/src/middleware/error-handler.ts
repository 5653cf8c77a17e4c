import { HttpError, unavailable, type Logger } from '@async-jobs/shared';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { EMPTY_BODY, emptyBody } from './json-body';
import { isRedisUnavailable } from './redis-errors';

/** 413, naming the limit so that a client knows how far to cut (body-parser's error carries it). */
const tooLarge = (limit: unknown) =>
  new HttpError(
    413,
    'payload_too_large',
    typeof limit === 'number' ? `the body is larger than the limit of ${limit} bytes (MAX_BODY_BYTES)` : 'the body is larger than the limit (MAX_BODY_BYTES)',
  );

/** Body-parser failures, by their `type`, as the contract's errors. */
const parserErrors: Record<string, (err: { limit?: unknown }) => HttpError> = {
  'entity.parse.failed': () => new HttpError(400, 'invalid_json', 'the body is not valid JSON'),
  // json-body.ts verifies two things only: that there are bytes, and that they are UTF-8.
  [EMPTY_BODY]: emptyBody,
  'entity.verify.failed': () => new HttpError(400, 'invalid_json', 'the body is not valid UTF-8, so not valid JSON'),
  'entity.too.large': (err) => tooLarge(err.limit),
  'encoding.unsupported': () => new HttpError(415, 'unsupported_media_type', 'unsupported content encoding'),
  'charset.unsupported': () => new HttpError(415, 'unsupported_media_type', 'unsupported charset; send UTF-8 JSON'),
};

/**
 * Other client errors that Express's router and body parser raise with a 4xx
 * `status`: a path that is not valid percent-encoding (`/jobs/%ff`), a compressed
 * body that does not inflate. They used to fall through as 500s.
 */
function otherClientError(err: unknown): HttpError | null {
  const status = (err as { status?: unknown })?.status;
  if (typeof status !== 'number' || status < 400 || status > 499) return null;
  if (err instanceof URIError) {
    return new HttpError(400, 'validation_failed', 'the URL is not valid percent-encoding', [{ path: '(url)', message: 'not valid percent-encoding' }]);
  }
  if (status === 404 || status === 403) return new HttpError(404, 'not_found', 'no such route');
  if (status === 413) return tooLarge((err as { limit?: unknown }).limit);
  if (status === 415) return new HttpError(415, 'unsupported_media_type', 'unsupported content encoding');
  return new HttpError(400, 'invalid_json', 'the body could not be read (a Content-Encoding that does not decode?)');
}

function toHttpError(err: unknown): HttpError | null {
  if (err instanceof HttpError) return err;
  const type = (err as { type?: unknown })?.type;
  if (typeof type === 'string' && Object.hasOwn(parserErrors, type)) return parserErrors[type](err as { limit?: unknown });
  if (isRedisUnavailable(err)) return unavailable();
  return otherClientError(err);
}

export function sendError(res: Parameters<RequestHandler>[1], e: HttpError): void {
  for (const [k, v] of Object.entries(e.headers ?? {})) res.setHeader(k, v);
  const body: { code: string; message: string; details?: unknown[] } = { code: e.code, message: e.message };
  if (e.details) body.details = e.details;
  res.status(e.status).json({ error: body });
}

/** The one place errors become responses; the stack goes to the log, never to the client. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const known = toHttpError(err);
    if (known) {
      if (known.status >= 500) logger.warn({ path: req.path, code: known.code, err: (err as Error).message }, 'request failed');
      sendError(res, known);
      return;
    }
    logger.error({ err, path: req.path }, 'unhandled error');
    sendError(res, new HttpError(500, 'internal', 'internal error'));
  };
}

export const notFoundRoute: RequestHandler = (_req, res) => sendError(res, new HttpError(404, 'not_found', 'no such route'));
