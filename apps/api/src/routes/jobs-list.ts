import { jobTypeNames, listJobsQuerySchema, toJobResource } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { decodeCursor } from '../jobs/job-index';
import { listJobs } from '../jobs/list-jobs';
import { parseOr400, unknownTypeDetail, unknownTypeRefused, validationFailed } from '../middleware/validate';
import type { RouteHandler } from '../route-handler';

/** GET /jobs?type=&state=&limit=&cursor=: newest first, keyset-paginated (see jobs/job-index.ts). */
export const listRoute =
  (ctx: AppContext): RouteHandler =>
  async (req) => {
    const q = parseOr400(listJobsQuerySchema, req.query);
    // Only registered types are listed: a misspelt filter would otherwise answer an empty page, as if no job existed.
    if (q.type !== undefined && !jobTypeNames.includes(q.type)) throw unknownTypeRefused(unknownTypeDetail('type', q.type));
    let after: string | undefined;
    if (q.cursor !== undefined) {
      after = decodeCursor(q.cursor) ?? undefined;
      if (!after) throw validationFailed([{ path: 'cursor', message: 'not a cursor this API returned (use nextCursor as it is)' }]);
    }
    const page = await listJobs(ctx, { type: q.type, state: q.state, limit: q.limit, after });
    return { body: { jobs: page.jobs.map(toJobResource), nextCursor: page.nextCursor } };
  };
