import { randomUUID } from 'node:crypto';
import { bullRetention, HttpError, type JobPayload, type JobRecord } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { assertRedisReady } from '../middleware/redis-errors';
import type { Submission } from './validate-submission';

/**
 * Enqueues first, then writes the "queued" record. If the worker is faster than
 * this write, the store drops the stale write, so the record never goes back.
 * Nothing is written when Redis is down: the enqueue fails before any record exists.
 */
export async function submitJob(ctx: AppContext, s: Submission): Promise<JobRecord> {
  const queue = ctx.queues.get(s.type);
  if (!queue) throw new HttpError(400, 'unknown_type', `no queue for type "${s.type}"`);
  assertRedisReady(ctx.redis);
  const id = randomUUID();
  const { options: o } = s;
  const payload: JobPayload = { input: s.input };
  if (o.timeout !== undefined) payload.timeout = o.timeout;
  if (o.callbackUrl !== undefined) payload.callbackUrl = o.callbackUrl;
  await queue.add(s.type, payload, {
    jobId: id,
    attempts: o.attempts,
    backoff: o.backoff,
    delay: o.delay,
    priority: o.priority,
    ...bullRetention,
  });
  const now = new Date().toISOString();
  const state = o.delay ? 'delayed' : 'queued';
  const fields = { progress: 0, attempts: { made: 0, max: o.attempts }, submittedAt: now };
  await ctx.store.apply({ id, type: s.type, state, attempt: 1, fields, event: { event: 'submitted' } });
  return {
    id,
    type: s.type,
    state,
    ...fields,
    startedAt: null,
    finishedAt: null,
    result: null,
    error: null,
    lastError: null,
  };
}
