import { z } from 'zod';
import { httpUrl } from '../schemas/http-url';
import { acceptedWords } from '../schemas/plain-errors';
import { jobTypeNames } from './index';

const DAY_MS = 86400000;

/** Options a client may pass with a job; every bound is checked before anything is written. */
export const submitOptionsSchema = z.strictObject({
  delay: z
    .number()
    .int()
    .min(0)
    .max(30 * DAY_MS)
    .optional(),
  /** 1 is the highest priority; BullMQ's limit is 2^21 - 1. */
  priority: z.number().int().min(1).max(2097151).optional(),
  attempts: z.number().int().min(1).max(50).default(3),
  backoff: z
    .strictObject({
      type: z.enum(['fixed', 'exponential']),
      delay: z.number().int().min(0).max(DAY_MS),
    })
    .default({ type: 'exponential', delay: 1000 }),
  /** Per attempt, in milliseconds; none by default. */
  timeout: z.number().int().min(1).max(DAY_MS).optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
  callbackUrl: httpUrl('a callback is signed with CALLBACK_SECRET instead').optional(),
});

export type SubmitOptions = z.infer<typeof submitOptionsSchema>;

export const submitBodySchema = z.strictObject({
  type: z
    .string()
    .min(1)
    .max(200)
    .register(acceptedWords, { accepts: `the name of a job type (${jobTypeNames.join(', ')}; GET /types describes them)` }),
  data: z.unknown(),
  options: submitOptionsSchema.default({ attempts: 3, backoff: { type: 'exponential', delay: 1000 } }),
});

/**
 * What BullMQ has no option for, carried in `job.opts.asyncJobs` where any other BullMQ
 * worker can ignore it (docs/wire-format.md). `job.data` is the submitted data itself.
 */
export interface AsyncJobsOptions {
  /** Per-attempt timeout, ms. */
  timeoutMs?: number;
  callbackUrl?: string;
  /** A flow's parent: its children in the order the flow gave them (BullMQ keeps them in a set). */
  children?: { id: string; type: string }[];
}

/** The extras of a job's BullMQ options, when it has any that make sense. */
export function asyncJobsOf(opts: unknown): AsyncJobsOptions {
  const extra = (opts as { asyncJobs?: unknown } | undefined)?.asyncJobs;
  if (typeof extra !== 'object' || extra === null) return {};
  const { timeoutMs, callbackUrl, children } = extra as Record<string, unknown>;
  return {
    ...(typeof timeoutMs === 'number' ? { timeoutMs } : {}),
    ...(typeof callbackUrl === 'string' ? { callbackUrl } : {}),
    ...(Array.isArray(children) ? { children: children.filter(isChildRef) } : {}),
  };
}

const isChildRef = (c: unknown): c is { id: string; type: string } =>
  typeof c === 'object' && c !== null && typeof (c as { id?: unknown }).id === 'string' && typeof (c as { type?: unknown }).type === 'string';
