import { randomUUID } from 'node:crypto';
import { bullRetention } from '@async-jobs/shared';
import type { JobsOptions } from 'bullmq';

/** Where the baselines keep their queue: apart from ours, in the same Redis. */
export const BASE_PREFIX = '{base}';
export const BASE_QUEUE = 'echo';

/**
 * The options our API gives an echo job by default (3 attempts, exponential backoff,
 * bounded retention), so the baselines enqueue exactly the same BullMQ job.
 */
export function baseJobOptions(): JobsOptions {
  return { jobId: randomUUID(), attempts: 3, backoff: { type: 'exponential', delay: 1000 }, ...bullRetention };
}
