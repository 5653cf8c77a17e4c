import { HttpError, jobRefOfKey, type JobRecord } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { isRedisUnavailable } from '../middleware/redis-errors';

const conflict = (message: string) => new HttpError(409, 'conflict', message);

/**
 * Runs a `failed` job again, through BullMQ's own retry, which moves it back to its
 * queue atomically (of two concurrent retries, one wins). BullMQ keeps `attemptsMade`,
 * so a manual retry grants one more attempt: a job that had used all its attempts fails
 * for good again if that one fails (`attempts.made` may then exceed `attempts.max`).
 */
export async function retryJob(ctx: AppContext, record: JobRecord): Promise<JobRecord> {
  const { id, type } = record;
  if (record.state !== 'failed') throw conflict(`only a failed job can be retried; this one is ${record.state}`);
  const job = await ctx.queues.get(ctx.keys.queueOf(type, id))?.getJob(id);
  if (!job) throw conflict('the queue no longer holds this job, so it cannot be retried; submit it again');
  // BullMQ never completes a parent with a child in its `unsuccessful` set (one that failed for
  // good): the retry would run the parent only to fail it again with BullMQ's own words. A retry
  // of that child takes it out of the set (BullMQ's moveChildBackToParentDependencies).
  const [failedChild] = await ctx.redis.zrange(`${ctx.keys.job(type, id)}:unsuccessful`, 0, 0);
  if (failedChild !== undefined) {
    const child = jobRefOfKey(failedChild);
    const which = child ? `its child ${child.type} job ${child.id}` : 'a child of it';
    const how = child ? `retry that child first (POST /jobs/${child.id}/retry)` : 'retry that child first';
    throw conflict(`${which} failed for good; ${how}, and this job once it has completed, or submit the flow again`);
  }
  try {
    await job.retry('failed');
  } catch (err) {
    if (isRedisUnavailable(err)) throw err;
    throw conflict('the job is no longer failed; it is being retried already');
  }
  // The job as BullMQ's retry left it (queued, its times and failure cleared), not a read after
  // it: by then a worker may already run it, or have finished it.
  return { ...record, state: 'queued', startedAt: null, finishedAt: null, result: null, error: null, lastError: record.error };
}
