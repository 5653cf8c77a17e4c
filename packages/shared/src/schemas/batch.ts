import { z } from 'zod';

/** docs/http-api.md: at most 1000 jobs per batch. */
export const maxBatchJobs = 1000;

/** `{ jobs: [item...] }` with the batch bounds, for any item schema (the API's envelope, or the document's per-type union). */
export function batchBodyOf<T extends z.ZodType>(item: T) {
  return z.strictObject({ jobs: z.array(item).min(1).max(maxBatchJobs) });
}

/** 202 answer of POST /jobs/batch, in the order of the request. */
export function batchResponseOf<T extends z.ZodType>(job: T) {
  return z.strictObject({ jobs: z.array(job) });
}
