import { randomUUID } from 'node:crypto';
import { loadConfig, retention } from '@async-jobs/shared';
import type { JobsOptions } from 'bullmq';

/** Where the baselines keep their queue: apart from ours, in the same Redis. */
export const BASE_PREFIX = '{base}';
export const BASE_QUEUE = 'echo';

const { RESULT_TTL_SECONDS } = loadConfig({});

/**
 * The options our API gives an echo job by default (3 attempts, exponential backoff), so
 * the baselines enqueue the same BullMQ job; its data is the submitted data itself, as
 * ours is (docs/wire-format.md).
 */
export function baseJobOptions(): JobsOptions {
  return { jobId: randomUUID(), attempts: 3, backoff: { type: 'exponential', delay: 1000 } };
}

/** Retention by age for RESULT_TTL_SECONDS, which our workers set as worker options, so the bare worker does too. */
export const baseRetention = retention(RESULT_TTL_SECONDS);
