import { collect } from './collect';
import { echo } from './echo';
import type { JobHandler } from './handler';
import { hash } from './hash';
import { httpRequest } from './http-request';
import { sleep } from './sleep';

export type { HandlerContext, JobHandler } from './handler';

/** Every built-in handler by job type; a new type is a file here and a line in this list. */
export const handlers: ReadonlyMap<string, JobHandler> = new Map<string, JobHandler>(
  [echo, sleep, hash, httpRequest, collect].map((h) => [h.name, h as JobHandler]),
);
