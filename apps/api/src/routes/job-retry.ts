import { toJobResource } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { retryJob } from '../jobs/retry-job';
import type { RouteHandler } from '../route-handler';
import { loadRecord } from './jobs';

/** POST /jobs/:id/retry: 202 and the job `queued` again; only a `failed` job (409 otherwise, 404/410 as GET). */
export const retryRoute =
  (ctx: AppContext): RouteHandler =>
  async (req) => {
    const record = await loadRecord(ctx, String(req.params.id));
    const resource = toJobResource(await retryJob(ctx, record));
    return { status: 202, headers: { Location: resource.links.self }, body: resource };
  };
