import { assertRedisReady, toJobResource } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { checkFlow } from '../flows/flow-tree';
import { submitFlow } from '../flows/submit-flow';
import { validationFailed } from '../middleware/validate';
import type { RouteHandler } from '../route-handler';

/**
 * POST /flows: a job with children, each a job that may have its own (docs/http-api.md "POST /flows").
 * Every job is validated before anything is written; then all are written in one
 * transaction. 202 with the root's id and every job's resource, root first.
 */
export const flowRoute =
  (ctx: AppContext): RouteHandler =>
  async (req) => {
    const root = checkFlow(req.body, ctx.config, ctx.keys);
    if (req.header('Idempotency-Key') !== undefined) {
      throw validationFailed([{ path: 'Idempotency-Key', message: 'idempotency keys are not supported on POST /flows' }]);
    }
    assertRedisReady(ctx.redis);
    const records = await submitFlow(ctx, root);
    const jobs = records.map(toJobResource);
    return { status: 202, headers: { Location: jobs[0].links.self }, body: { id: root.id, jobs } };
  };
