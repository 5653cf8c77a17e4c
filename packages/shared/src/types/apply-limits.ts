import type { JobQueue } from '../queues';
import type { TypeLimits } from './type-limits';

/** One limit that was changed in Redis, for the log: `from` and `to` are null when unset. */
export interface LimitChange {
  type: string;
  limit: 'rate' | 'concurrency';
  from: unknown;
  to: unknown;
}

const sameRate = (a: TypeLimits['rate'] | null, b: TypeLimits['rate'] | null) => a?.max === b?.max && a?.durationMs === b?.durationMs;

/**
 * Makes BullMQ's queue-wide limits of each queue in `queues` what `limits` says, and
 * clears the ones `limits` no longer gives: BullMQ keeps them in the queue's meta hash,
 * where every worker's fetch script reads them, so they hold across all workers and
 * Redis must not keep a limit the configuration dropped. Idempotent; returns what changed.
 */
export async function applyTypeLimits(queues: ReadonlyMap<string, JobQueue>, limits: Readonly<Record<string, TypeLimits>>): Promise<LimitChange[]> {
  const changes: LimitChange[] = [];
  await Promise.all(
    [...queues].map(async ([type, queue]) => {
      const want = limits[type] ?? {};
      const [concurrency, rate] = await Promise.all([queue.getGlobalConcurrency(), queue.getGlobalRateLimit()]);
      const hasRate = rate ? { max: rate.max, durationMs: rate.duration } : null;
      if ((want.concurrency ?? null) !== concurrency) {
        if (want.concurrency) await queue.setGlobalConcurrency(want.concurrency);
        else await queue.removeGlobalConcurrency();
        changes.push({ type, limit: 'concurrency', from: concurrency, to: want.concurrency ?? null });
      }
      if (!sameRate(want.rate ?? null, hasRate)) {
        if (want.rate) await queue.setGlobalRateLimit(want.rate.max, want.rate.durationMs);
        else await queue.removeGlobalRateLimit();
        changes.push({ type, limit: 'rate', from: hasRate, to: want.rate ?? null });
      }
    }),
  );
  return changes;
}
