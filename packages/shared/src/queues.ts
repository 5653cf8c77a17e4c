import { Queue } from 'bullmq';
import { jobTypeNames } from './jobs/index';
import type { JobPayload } from './jobs/options';
import type { Keyspace } from './keyspace';
import type { RedisClient } from './redis';

/**
 * BullMQ keeps finished jobs only briefly and in bounded numbers, so Redis does not
 * grow without bound; the results store keeps what clients read, for its own TTL.
 */
export const bullRetention = {
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 86400, count: 5000 },
} as const;

export type JobQueue = Queue<JobPayload, unknown, string>;

/** One BullMQ queue per job type, sharing one connection; the caller closes the queues, then the connection. */
export function createQueues(
  connection: RedisClient,
  keys: Keyspace,
  onError: (err: Error) => void,
  types: readonly string[] = jobTypeNames,
): Map<string, JobQueue> {
  return new Map(
    types.map((name) => {
      const q = new Queue<JobPayload, unknown, string>(name, { connection, prefix: keys.bullPrefix }) as JobQueue;
      // Without a listener BullMQ prints every reconnect failure to stderr.
      q.on('error', onError);
      return [name, q];
    }),
  );
}

export async function closeQueues(queues: Map<string, JobQueue>): Promise<void> {
  await Promise.allSettled([...queues.values()].map((q) => q.close()));
}
