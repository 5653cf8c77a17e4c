import { HttpError, type JobRecord } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { isRedisUnavailable } from '../middleware/redis-errors';

const conflict = (message: string) => new HttpError(409, 'conflict', message);

/**
 * Runs a `failed` job again. The record is reopened (failed -> queued, atomically, so of
 * two concurrent retries one wins) BEFORE BullMQ requeues the job: in the other order a
 * fast worker's `active` write would meet a still-terminal record and be dropped.
 *
 * Attempts: BullMQ keeps `attemptsMade` on a retry, so the next run is attempt
 * attemptsMade + 1 and its record writes carry versions above the failed one's (versions
 * must only grow; resetting the count would make the next run's writes look stale). A
 * manual retry therefore grants one more attempt: when the job had used all its attempts,
 * a failure of that one is final again (`attempts.made` may then exceed `attempts.max`);
 * when it failed early (an unrecoverable error), the remaining attempts still apply.
 */
export async function retryJob(ctx: AppContext, record: JobRecord): Promise<JobRecord> {
  const { id, type } = record;
  if (record.state !== 'failed') throw conflict(`only a failed job can be retried; this one is ${record.state}`);
  const job = await ctx.queues.get(type)?.getJob(id);
  if (!job) {
    throw conflict('the queue no longer holds this job (finished jobs are kept there for a limited time), so it cannot be retried; submit it again');
  }
  if ((await job.getState()) !== 'failed') throw conflict('the job is not failed in the queue; it is being retried already');
  const attempt = Math.max(job.attemptsMade, record.attempts.made) + 1;
  const outcome = await ctx.store.reopen({ id, type, attempt });
  if (outcome === 'not_failed') throw conflict('the job is no longer failed; it is being retried already');
  if (outcome === 'ahead') throw conflict('the job record is ahead of the queue; it cannot be retried safely');
  try {
    await job.retry('failed');
  } catch (err) {
    // Put the record back as it was (a later version, so the upsert takes it; nothing runs meanwhile).
    const fields = { error: record.error, finishedAt: record.finishedAt };
    const event = { event: 'failed' as const, attempt: record.attempts.made, ...(record.error ? { error: record.error } : {}) };
    await ctx.store.apply({ id, type, state: 'failed', attempt, fields, event }).catch((e: Error) => {
      ctx.logger.error({ jobId: id, err: e.message }, 'could not restore the failed record after a refused retry');
    });
    if (isRedisUnavailable(err)) throw err;
    throw conflict(`the queue refused the retry: ${(err as Error).message}`);
  }
  return { ...record, state: 'queued', error: null, finishedAt: null };
}
