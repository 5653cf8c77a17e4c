import { randomUUID } from 'node:crypto';
import { assertRedisReady, type JobRecord } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { submitAtomically } from './submit-atomic';
import type { Submission } from './validate-submission';

/** Submits already-validated jobs in one transaction whatever their count; records come back in input order. */
export async function submitBatch(ctx: AppContext, subs: Submission[]): Promise<JobRecord[]> {
  assertRedisReady(ctx.redis);
  return submitAtomically(
    ctx,
    subs,
    subs.map(() => randomUUID()),
  );
}
