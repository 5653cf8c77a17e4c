import { toJobResource } from '@async-jobs/shared';
import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import { retryJob } from '../jobs/retry-job';
import { loadRecord } from './jobs';

/** POST /jobs/:id/retry: 202 and the job `queued` again; only a `failed` job (409 otherwise, 404/410 as GET). */
export const retryRoute = (ctx: AppContext) =>
  async function retryJobRoute(req: Request, res: Response) {
    const record = await loadRecord(ctx, String(req.params.id));
    const resource = toJobResource(await retryJob(ctx, record));
    res.status(202).location(resource.links.self).json(resource);
  };
