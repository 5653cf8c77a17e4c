import { Queue } from 'bullmq';
import { jobTypeNames } from './jobs/index';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis';

/**
 * How long BullMQ keeps a finished job: it is the results store, so a job stays
 * readable for RESULT_TTL_SECONDS after it ends (by age only; a count limit would drop
 * results early under load). Our workers set it as BullMQ Worker options, not on each job:
 * in a job's `opts` it would push the job's hash out of Redis's compact listpack encoding
 * (a value over 64 bytes), doubling what a finished job holds. BullMQ applies it when a
 * later job of the queue finishes, to every job of the finished set older than that.
 */
export function retention(resultTtlSeconds: number) {
  return { removeOnComplete: { age: resultTtlSeconds }, removeOnFail: { age: resultTtlSeconds } } as const;
}

/**
 * Lines of a job's log that are kept (docs/http-api.md "GET /jobs/{id}/logs"): our workers pass it to BullMQ's
 * `job.log` as `keepLogs` (job-context.ts), which trims the log's list to its newest lines
 * on each line. Not stored in the job's `opts`, for the reason `retention` is not.
 */
export const JOB_LOG_LINES = 1000;

export type JobQueue = Queue<unknown, unknown, string>;

/**
 * One BullMQ queue per queue of each job type (one per type, or one per shard of a sharded
 * type: keys.queuesOf), keyed by queue name, sharing one connection; the caller closes
 * the queues, then the connection. The queue of a job is `queues.get(keys.queueOf(type, id))`.
 */
export function createQueues(
  connection: RedisClient,
  keys: Keyspace,
  onError: (err: Error) => void,
  types: readonly string[] = jobTypeNames,
): Map<string, JobQueue> {
  return new Map(
    types
      .flatMap((t) => keys.queuesOf(t))
      .map((name) => {
        const q = new Queue<unknown, unknown, string>(name, { connection, prefix: keys.prefixOf(name) }) as JobQueue;
        // Without a listener BullMQ prints every reconnect failure to stderr.
        q.on('error', onError);
        return [name, q];
      }),
  );
}

export async function closeQueues(queues: Map<string, JobQueue>): Promise<void> {
  await Promise.allSettled([...queues.values()].map((q) => q.close()));
}
