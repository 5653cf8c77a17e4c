import { HttpError, jobTypeNames, plainErrors } from '@async-jobs/shared';
import type { z } from 'zod';

export interface ProblemDetail {
  path: string;
  message: string;
  index?: number;
  /** With an unknown job type: the registered ones. */
  knownTypes?: readonly string[];
}

/** zod issues as `details`, each with its JSON path (e.g. `data.ms`); parse with `plainErrors(prefix)` for messages a person can act on. */
export function issuesToDetails(error: z.ZodError, prefix: (string | number)[] = []): ProblemDetail[] {
  const details: ProblemDetail[] = [];
  const seen = new Set<string>();
  for (const i of error.issues) {
    const path = [...prefix, ...i.path].map(String).join('.') || '(root)';
    // One problem said once: zod's .int() also checks the safe-integer range, so a huge number
    // fails two checks whose plain messages are the same sentence.
    const key = `${path}\n${i.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push({ path, message: i.message });
  }
  return details;
}

/** 400 validation_failed; its message carries the first problem, so that a client that prints only the message still says what to fix. */
export function validationFailed(details: ProblemDetail[], what = 'the request'): HttpError {
  const more = details.length > 1 ? ` (and ${details.length - 1} more in details)` : '';
  const first = details[0] ? `: ${details[0].message}${more}` : '';
  return new HttpError(400, 'validation_failed', `${what} does not match the schema${first}`, details);
}

/** The detail for a `type` that names no registered job type, at `path`: it lists the registered ones. */
export const unknownTypeDetail = (path: string, type: string): ProblemDetail => ({ path, message: `unknown job type "${type}"`, knownTypes: jobTypeNames });

/** 400 unknown_type: `detail` (unknownTypeDetail) is all that is wrong. */
export const unknownTypeRefused = (detail: ProblemDetail) => new HttpError(400, 'unknown_type', detail.message, [detail]);

/**
 * The 400 for the jobs of a batch or a flow: `unknown_type` when unknown types are all that
 * is wrong (each such detail carries `knownTypes`, and only those do), as for one POST /jobs;
 * `validation_failed` otherwise.
 */
export function jobsRefused(details: ProblemDetail[], what: string): HttpError {
  if (details.every((d) => d.knownTypes)) return new HttpError(400, 'unknown_type', `unknown job type in ${what}: ${details[0].message}`, details);
  return validationFailed(details, what);
}

/** Parses or throws 400 validation_failed. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, prefix: (string | number)[] = []): z.infer<S> {
  const r = schema.safeParse(value, { error: plainErrors(prefix) });
  if (!r.success) throw validationFailed(issuesToDetails(r.error, prefix));
  return r.data;
}
