import { HttpError } from '@async-jobs/shared';
import express, { type RequestHandler } from 'express';

/** JSON bodies only: any other content type is 415 before a byte is parsed. */
export function jsonBody(limit: number): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is('application/json')) {
      next(new HttpError(415, 'unsupported_media_type', 'send the body as application/json'));
      return;
    }
    next();
  };
  return [requireJson, express.json({ limit, strict: true, type: 'application/json' })];
}
