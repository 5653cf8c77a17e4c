import { failedByCancel, type JobQueue, type RedisClient } from '@async-jobs/shared';
import { Job } from 'bullmq';
import { isRedisUnavailable } from '../middleware/redis-errors';

/** Failed jobs looked at per round trip; each page is a few small commands, so Redis is never held long. */
export const RETRY_PAGE = 500;

/**
 * Gives every failed job of `queue` another attempt, as POST /jobs/:id/retry does (BullMQ's
 * own `job.retry`, one short script per job), except those that read `cancelled`: a job
 * cancelled while it ran sits in BullMQ's failed set with a CancelledError, and a cancel is
 * final. BullMQ's `retryJobs` moves a whole page in one script but cannot leave those out.
 *
 * Pages walk the failed set oldest first, only up to the moment the call started, so that a
 * job failing again while this runs is not retried twice. Retried jobs leave the set and the
 * cancelled ones stay, so the next page starts after the cancelled ones seen so far. A job
 * that another client retries or removes meanwhile is not counted. Returns how many were retried.
 */
export async function retryFailed(redis: RedisClient, queue: JobQueue, pageSize = RETRY_PAGE): Promise<number> {
  const until = Date.now();
  let kept = 0;
  let retried = 0;
  for (;;) {
    const ids = await redis.zrangebyscore(queue.keys.failed, '-inf', until, 'LIMIT', kept, pageSize);
    if (ids.length === 0) return retried;
    const pipe = redis.pipeline();
    for (const id of ids) pipe.hmget(queue.toKey(id), 'failedReason', 'stacktrace', 'opts');
    const fields = ((await pipe.exec()) ?? []).map(([err, v]) => {
      if (err) throw err;
      return v as (string | null)[];
    });
    const results = await Promise.all(
      ids.map(async (id, i) => {
        const [failedReason, stacktrace, opts] = fields[i];
        if (failedByCancel({ failedReason: failedReason ?? undefined, stacktrace: stacktrace ?? undefined })) return 'kept';
        // BullMQ's retry needs only the id and whether the job was added LIFO; the rest stays in Redis.
        const lifo = opts ? (JSON.parse(opts) as { lifo?: boolean }).lifo === true : false;
        try {
          await new Job(queue, queue.name, null, { lifo }, id).retry('failed');
          return 'retried';
        } catch (err) {
          if (isRedisUnavailable(err)) throw err;
          // No longer failed (retried by someone else, removed), or an id without its job hash.
          return 'refused';
        }
      }),
    );
    retried += results.filter((r) => r === 'retried').length;
    kept += results.filter((r) => r === 'kept').length;
    // A refused id that is still in the set (a dangling id) is stepped over too, or the walk would loop on it.
    const refused = ids.filter((_, i) => results[i] === 'refused');
    if (refused.length > 0) {
      const still = await Promise.all(refused.map((id) => redis.zscore(queue.keys.failed, id)));
      kept += still.filter((score) => score !== null).length;
    }
  }
}
