import type { Keyspace, Logger, RedisClient } from '@async-jobs/shared';

/**
 * The name of an entry we append to a queue's BullMQ event stream when an operator's
 * write (Bull Board's empty, clean, remove) may have dropped jobs without an entry per
 * job: every API process's stream reader sees it and has its waiters read their jobs
 * again, not only the process that served the write. A BullMQ reader in any language
 * ignores an event name it does not know.
 */
export const RESYNC_EVENT = 'aj:resync';

/** Appends the marker to each type's stream that exists (NOMKSTREAM: a queue never used has no waiter). */
export function announceResync(redis: RedisClient, keys: Keyspace, types: readonly string[], logger: Logger): () => void {
  return () => {
    // One call per stream, not a pipeline: on a cluster the queues need not share a slot.
    Promise.all(types.map((t) => redis.xadd(keys.events(t), 'NOMKSTREAM', '*', 'event', RESYNC_EVENT))).catch((err: Error) =>
      logger.warn({ err: err.message }, 'could not tell other API processes to read their waited jobs again'),
    );
  };
}
