import { Queue } from 'bullmq';
import { jobTypeNames } from './jobs/index';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis';

/**
 * How long BullMQ keeps a finished job: it is the results store, so a job stays
 * readable for RESULT_TTL_SECONDS after it ends (by age only; a count limit would drop
 * results early under load). BullMQ applies it when a later job of the queue finishes.
 */
export function retention(resultTtlSeconds: number) {
  return { removeOnComplete: { age: resultTtlSeconds }, removeOnFail: { age: resultTtlSeconds } } as const;
}

/**
 * Lines of a job's log that are kept (API.md "Job logs"): BullMQ's `keepLogs` job option,
 * which trims the log's list to its newest lines on each `job.log`.
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
