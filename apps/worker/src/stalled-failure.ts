import type { Job } from 'bullmq';
import type { JobPayload, Logger, ResultsStore } from '@async-jobs/shared';
import { errorInfo, StalledError } from './errors';
import { failedWrite } from './record-writes';
import { MAX_STALLED_COUNT } from './worker-options';

/**
 * A job that stalled more than `maxStalledCount` times is failed by BullMQ without
 * running the processor (its "deferred failure"), so the processor never records
 * it. This does, from the worker's `failed` event. BullMQ has already counted the
 * failure in `attemptsMade`, which is therefore the attempt that was running.
 */
export async function recordStalledFailure(
  job: Job<JobPayload> | undefined,
  type: string,
  store: ResultsStore,
  logger: Logger,
  afterOutcome?: (job: Job<JobPayload>, outcome: string) => Promise<void>,
) {
  if (!job?.id || !job.deferredFailure) return;
  const error = errorInfo(
    new StalledError(`job stalled more than the allowed ${MAX_STALLED_COUNT} times: its worker stopped while running it each time`),
  );
  const info = {
    id: job.id,
    type,
    attempt: Math.max(1, job.attemptsMade),
    max: job.opts.attempts ?? 1,
    submittedAt: new Date(job.timestamp).toISOString(),
  };
  try {
    await store.apply(failedWrite(info, error));
  } catch (err) {
    logger.error({ jobId: job.id, type, err: (err as Error).message }, 'could not write job record');
  }
  logger.warn({ jobId: job.id, type, err: error }, 'job failed');
  await afterOutcome?.(job, `failed-${info.attempt}`);
}
