import { isUtf8 } from 'node:buffer';
import { HttpError } from '@async-jobs/shared';
import express, { type Request, type RequestHandler } from 'express';
import { checkJsonShape } from './json-shape';

/** 400 for a request that sends no body where one is needed (Express would read it as `{}`, or as not JSON at all). */
export const emptyBody = () => new HttpError(400, 'invalid_json', 'the body is empty; send a JSON object with Content-Type: application/json');

/** What body-parser's `verify` throws for zero bytes (a chunked body can be empty too); error-handler.ts maps its `type`. */
export const EMPTY_BODY = 'entity.empty';

/** No Content-Length (or 0) and no Transfer-Encoding: nothing follows the headers. */
const sendsNothing = (req: Request) =>
  req.headers['transfer-encoding'] === undefined && (req.headers['content-length'] === undefined || Number(req.headers['content-length']) === 0);

/**
 * For a POST that takes no body (a retry, a pause): sending none is the way to call it,
 * but a body that is sent must be JSON like any other, or it is 415 as for a POST /jobs.
 * A JSON body is not read: the route has nothing to take from it.
 */
export const noBody: RequestHandler = (req, _res, next) => {
  if (sendsNothing(req) || req.is('application/json')) {
    next();
    return;
  }
  next(new HttpError(415, 'unsupported_media_type', 'this request takes no body; send none (a body that is sent must be application/json)'));
};

/** The `charset` parameter of a Content-Type, quoted or not. */
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i;

/**
 * Charsets whose JSON is UTF-8 byte for byte (ASCII is a subset of it). JSON is UTF-8
 * (RFC 8259); the parser alone would also decode UTF-16 and UTF-32 and refuse these.
 */
const UTF8_BYTES = new Set(['utf8', 'us-ascii', 'ascii']);

/** JSON bodies only: any other content type is 415 before a byte is parsed; see json-shape.ts for what else is refused. */
export function jsonBody(limit: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    // Checked before the type: `req.is` knows no type for a request without a body, which read as a puzzling 415.
    if (sendsNothing(req)) {
      next(emptyBody());
      return;
    }
    if (!req.is('application/json')) {
      next(new HttpError(415, 'unsupported_media_type', 'send the body as application/json'));
      return;
    }
    const charset = CHARSET.exec(req.headers['content-type'] ?? '')?.[1].toLowerCase();
    if (charset !== undefined && charset !== 'utf-8') {
      if (!UTF8_BYTES.has(charset)) {
        next(new HttpError(415, 'unsupported_media_type', `unsupported charset "${charset}"; send the body as UTF-8 JSON`));
        return;
      }
      // The same bytes as UTF-8, under a name the parser does not take (it knows only `utf-*`).
      req.headers['content-type'] = 'application/json; charset=utf-8';
    }
    next();
  };
  // JSON text is UTF-8 (RFC 8259), and never empty; the parser would otherwise turn invalid bytes into U+FFFD and accept them.
  const utf8Only = (_req: unknown, _res: unknown, buf: Buffer) => {
    if (buf.length === 0) throw Object.assign(new Error('the body is empty'), { type: EMPTY_BODY });
    if (!isUtf8(buf)) throw new Error('the body is not valid UTF-8');
  };
  // Not `strict`: a JSON text may be any value (RFC 8259), and a string, number or null is valid JSON
  // that is not an object; the routes' schemas say so (400 validation_failed), as for an array.
  // Strict mode refused them as not JSON at all (invalid_json), which was untrue.
  return [requireJson, express.json({ limit, strict: false, type: 'application/json', verify: utf8Only }), checkJsonShape];
}
