import { randomUUID } from 'node:crypto';
import { HttpError, isCluster, type JobRecord } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { assertRedisReady } from '../middleware/redis-errors';
import { bullOptionsOf, payloadOf, recordOf, submittedWrite } from './job-build';
import { indexHorizonMs, indexWrites, reserveOrder } from './job-index';
import { submitCoalesced } from './submit-coalesce';
import type { Submission } from './validate-submission';

/**
 * On one Redis, job and record are written in one transaction (submit-atomic.ts), shared
 * with the submits that arrive at the same moment (submit-coalesce.ts).
 * On a Cluster, where no transaction spans both: enqueues first, then writes the "queued" record (and the list index, in the same
 * round trip). If the worker is faster than this write, the store drops the stale
 * write, so the record never goes back (the worker's first write then logs the
 * job's `submitted` event itself; see lua/upsert.ts). Nothing is written when Redis is down: the
 * enqueue fails before any record exists. `id` is preset by an idempotent submit.
 */
export async function submitJob(ctx: AppContext, s: Submission, id: string = randomUUID()): Promise<JobRecord> {
  const queue = ctx.queues.get(s.type);
  if (!queue) throw new HttpError(400, 'unknown_type', `no queue for type "${s.type}"`);
  assertRedisReady(ctx.redis);
  if (!isCluster(ctx.redis)) return submitCoalesced(ctx, s, id);
  const job = await queue.add(s.type, payloadOf(s), bullOptionsOf(s, id));
  // BullMQ's own timestamp, which the worker also records: submittedAt never shifts between writes.
  const at = new Date(job.timestamp);
  const write = submittedWrite(id, s, at);
  const horizon = indexHorizonMs(ctx.config.RESULT_TTL_SECONDS);
  await ctx.store.applyMany([write], indexWrites(ctx.keys, [{ id, type: s.type, ...reserveOrder(1) }], horizon));
  ctx.metrics.jobSubmitted(s.type);
  return recordOf(write);
}
