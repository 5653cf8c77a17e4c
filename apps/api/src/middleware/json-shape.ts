import type { RequestHandler } from 'express';
import { validationFailed } from './validate';

/**
 * How deeply a request body may nest. Far more than any job needs, and far below
 * what recursive code (JSON.stringify, the schemas, BullMQ's encoding) survives:
 * a 1 MB body can nest 250,000 levels, and a few thousand already overflow the
 * stack, which used to answer 500.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Why `body` is refused, or null: nested deeper than MAX_JSON_DEPTH, or a key that
 * could reach an object's prototype when code copies the body (`__proto__`
 * anywhere, `constructor` holding `prototype`), as Fastify's secure-json-parse
 * refuses them. Walks with its own stack, so hostile depth cannot overflow it.
 */
export function jsonShapeProblem(body: unknown): { path: string; message: string } | null {
  const stack: Array<{ value: unknown; path: string[] }> = [{ value: body, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= MAX_JSON_DEPTH) return { path: `${path.slice(0, 8).join('.')}…`, message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
    for (const key of Object.keys(value)) {
      const inner = (value as Record<string, unknown>)[key];
      if (key === '__proto__' || (key === 'constructor' && inner !== null && typeof inner === 'object' && Object.hasOwn(inner, 'prototype'))) {
        return { path: [...path, key].join('.'), message: `the key "${key}" is not accepted` };
      }
      stack.push({ value: inner, path: [...path, key] });
    }
  }
  return null;
}

/** 400 validation_failed for a parsed JSON body that is too deep or carries a prototype key. */
export const checkJsonShape: RequestHandler = (req, _res, next) => {
  const problem = jsonShapeProblem(req.body);
  next(problem ? validationFailed([problem], 'the body') : undefined);
};
