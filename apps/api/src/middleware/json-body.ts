import { isUtf8 } from 'node:buffer';
import { HttpError } from '@async-jobs/shared';
import express, { type RequestHandler } from 'express';
import { checkJsonShape } from './json-shape';

/** JSON bodies only: any other content type is 415 before a byte is parsed; see json-shape.ts for what else is refused. */
export function jsonBody(limit: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is('application/json')) {
      next(new HttpError(415, 'unsupported_media_type', 'send the body as application/json'));
      return;
    }
    next();
  };
  // JSON text is UTF-8 (RFC 8259); the parser would otherwise turn invalid bytes into U+FFFD and accept them.
  const utf8Only = (_req: unknown, _res: unknown, buf: Buffer) => {
    if (!isUtf8(buf)) throw new Error('the body is not valid UTF-8');
  };
  return [requireJson, express.json({ limit, strict: true, type: 'application/json', verify: utf8Only }), checkJsonShape];
}
