import { randomUUID } from 'node:crypto';
import { assertRedisReady, HttpError, type JobRecord } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { submitCoalesced } from './submit-coalesce';
import type { Submission } from './validate-submission';

/**
 * One job, written in one transaction (submit-atomic.ts) shared with the submits that
 * arrive at the same moment (submit-coalesce.ts). Nothing is written when Redis is down.
 * `id` is preset by an idempotent submit.
 */
export async function submitJob(ctx: AppContext, s: Submission, id: string = randomUUID()): Promise<JobRecord> {
  if (!ctx.queues.has(ctx.keys.queueOf(s.type, id))) throw new HttpError(400, 'unknown_type', `no queue for type "${s.type}"`);
  assertRedisReady(ctx.redis);
  return submitCoalesced(ctx, s, id);
}
