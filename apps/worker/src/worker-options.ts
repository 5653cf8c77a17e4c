import type { WorkerOptions } from 'bullmq';
import { retention, type Config, type Keyspace, type RedisClient } from '@async-jobs/shared';

/**
 * How many times a job may be recovered after its worker stopped renewing its lock
 * (SIGKILL, OOM, a machine gone) before BullMQ fails it. BullMQ's default, 1,
 * already retries a killed worker's job once; 2 also survives a second loss, e.g.
 * a crash followed by a forced shutdown during a rolling deploy. A job that kills
 * every worker it lands on (a poison job exhausting memory) still ends `failed`
 * on its third start instead of taking the fleet down one worker at a time.
 * Stall recoveries do not use up the job's `attempts`.
 */
export const MAX_STALLED_COUNT = 2;

/**
 * Options of the BullMQ worker of `queue` (a type, one shard of one, or the callbacks queue).
 * `name` is this process's worker name (shared/worker-identity.ts), the same on every queue it serves.
 */
export function workerOptions(config: Config, keys: Keyspace, connection: RedisClient, queue: string, name: string): WorkerOptions {
  return {
    connection,
    prefix: keys.prefixOf(queue),
    concurrency: config.WORKER_CONCURRENCY,
    stalledInterval: config.STALLED_INTERVAL_MS,
    lockDuration: config.LOCK_DURATION_MS,
    maxStalledCount: MAX_STALLED_COUNT,
    // Retention of every job it finishes: jobs carry none of their own (shared/queues.ts). A job
    // that does (another producer's) keeps its own.
    ...retention(config.RESULT_TTL_SECONDS),
    // On the worker's connection, where Queue.getWorkers() (GET /workers) finds it, and on each
    // job it runs (processedBy), so Bull Board shows which process ran it.
    name,
  };
}
