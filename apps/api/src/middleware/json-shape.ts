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
 * Why `body` is refused, or null: nested deeper than MAX_JSON_DEPTH, a key that
 * could reach an object's prototype when code copies the body (`__proto__`
 * anywhere, `constructor` holding `prototype`), as Fastify's secure-json-parse
 * refuses them, or a number too large to be kept. Walks with its own stack, so hostile depth cannot overflow it.
 */
export function jsonShapeProblem(body: unknown): { path: string; message: string } | null {
  if (body === null || typeof body !== 'object') return null;
  // Each object or array once, with a link to where it sits; its path is spelt out only for a
  // problem. Copying the path for every value cost a POST /jobs/batch of 100 jobs more than
  // validating them. Leaves are never pushed: popping one found nothing. Same order as ever,
  // so the problem reported first is the same one.
  const stack: Frame[] = [{ value: body, parent: null, key: '', depth: 0 }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const { value, depth } = frame;
    if (depth >= MAX_JSON_DEPTH) return { path: `${pathOf(frame).slice(0, 8).join('.')}…`, message: `nested deeper than ${MAX_JSON_DEPTH} levels` };
    for (const key of Object.keys(value)) {
      const inner = (value as Record<string, unknown>)[key];
      if (key === '__proto__' || (key === 'constructor' && inner !== null && typeof inner === 'object' && Object.hasOwn(inner, 'prototype'))) {
        return { path: [...pathOf(frame), key].join('.'), message: `the key "${key}" is not accepted` };
      }
      if (inner !== null && typeof inner === 'object') stack.push({ value: inner, parent: frame, key, depth: depth + 1 });
      // JSON.parse reads 1e400 as Infinity, which every later JSON.stringify (BullMQ's too) writes as null.
      else if (typeof inner === 'number' && !Number.isFinite(inner)) {
        return { path: [...pathOf(frame), key].join('.'), message: 'is a number beyond what a double holds (about ±1.8e308)' };
      }
    }
  }
  return null;
}

interface Frame {
  value: object;
  parent: Frame | null;
  key: string;
  depth: number;
}

function pathOf(frame: Frame): string[] {
  const path: string[] = [];
  for (let f: Frame | null = frame; f?.parent; f = f.parent) path.push(f.key);
  return path.reverse();
}

/** 400 validation_failed for a parsed JSON body that is too deep, carries a prototype key or a number no double holds. */
export const checkJsonShape: RequestHandler = (req, _res, next) => {
  const problem = jsonShapeProblem(req.body);
  next(problem ? validationFailed([problem], 'the body') : undefined);
};
