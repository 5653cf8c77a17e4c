import { SHARD_MARK } from '../queue-layout';
import type { JobQueue } from '../queues';
import type { TypeLimits } from './type-limits';

/** One limit that was changed in Redis, for the log: `from` and `to` are null when unset. */
export interface LimitChange {
  type: string;
  /** The shard's queue (`type~k`) when the type is sharded. */
  queue?: string;
  limit: 'rate' | 'concurrency';
  from: unknown;
  to: unknown;
}

/** A queue's type: the name up to the shard mark (queue-layout.ts). */
const typeOfQueueName = (name: string) => name.split(SHARD_MARK)[0];
const shardOf = (name: string) => (name.includes(SHARD_MARK) ? { queue: name } : {});

const sameRate = (a: TypeLimits['rate'] | null, b: TypeLimits['rate'] | null) => a?.max === b?.max && a?.durationMs === b?.durationMs;

/**
 * Makes BullMQ's queue-wide limits of each queue in `queues` what `limits` says, and
 * clears the ones `limits` no longer gives: BullMQ keeps them in the queue's meta hash,
 * where every worker's fetch script reads them, so they hold across all workers and
 * Redis must not keep a limit the configuration dropped. Idempotent; returns what changed.
 * A sharded type's limits are written to each of its shards (`type~k`): BullMQ's limits are
 * per queue, so they then hold per shard (N shards allow N times the limit).
 */
export async function applyTypeLimits(queues: ReadonlyMap<string, JobQueue>, limits: Readonly<Record<string, TypeLimits>>): Promise<LimitChange[]> {
  const changes: LimitChange[] = [];
  await Promise.all(
    [...queues].map(async ([name, queue]) => {
      const type = typeOfQueueName(name);
      const want = limits[type] ?? {};
      const [concurrency, rate] = await Promise.all([queue.getGlobalConcurrency(), queue.getGlobalRateLimit()]);
      const hasRate = rate ? { max: rate.max, durationMs: rate.duration } : null;
      if ((want.concurrency ?? null) !== concurrency) {
        if (want.concurrency) await queue.setGlobalConcurrency(want.concurrency);
        else await queue.removeGlobalConcurrency();
        changes.push({ type, ...shardOf(name), limit: 'concurrency', from: concurrency, to: want.concurrency ?? null });
      }
      if (!sameRate(want.rate ?? null, hasRate)) {
        if (want.rate) await queue.setGlobalRateLimit(want.rate.max, want.rate.durationMs);
        else await queue.removeGlobalRateLimit();
        changes.push({ type, ...shardOf(name), limit: 'rate', from: hasRate, to: want.rate ?? null });
      }
    }),
  );
  return changes;
}
