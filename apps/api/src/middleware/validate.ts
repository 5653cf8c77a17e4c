import { HttpError } from '@async-jobs/shared';
import type { z } from 'zod';

export interface ProblemDetail {
  path: string;
  message: string;
  index?: number;
}

/** zod issues as `details`, each with its JSON path (e.g. `data.ms`). */
export function issuesToDetails(error: z.ZodError, prefix: (string | number)[] = []): ProblemDetail[] {
  return error.issues.map((i) => ({
    path: [...prefix, ...i.path].map(String).join('.') || '(root)',
    message: i.message,
  }));
}

export function validationFailed(details: ProblemDetail[], what = 'the request'): HttpError {
  return new HttpError(400, 'validation_failed', `${what} does not match the schema`, details);
}

/** Parses or throws 400 validation_failed. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, prefix: (string | number)[] = []): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw validationFailed(issuesToDetails(r.error, prefix));
  return r.data;
}
