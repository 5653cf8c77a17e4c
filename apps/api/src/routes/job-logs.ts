import { jobLogsQuerySchema } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { decodeLogCursor, readLogPage } from '../jobs/job-logs';
import { parseOr400, validationFailed } from '../middleware/validate';
import type { RouteHandler } from '../route-handler';
import { loadRecord } from './jobs';

/** GET /jobs/:id/logs?cursor=&limit=: the job's log lines, oldest first; 404 and 410 as GET /jobs/:id. */
export const jobLogsRoute =
  (ctx: AppContext): RouteHandler =>
  async (req) => {
    const q = parseOr400(jobLogsQuerySchema, req.query);
    const cursor = q.cursor === undefined ? null : decodeLogCursor(q.cursor);
    if (q.cursor !== undefined && !cursor) throw validationFailed([{ path: 'cursor', message: 'not a cursor this API returned (use nextCursor as it is)' }]);
    const record = await loadRecord(ctx, String(req.params.id));
    // The job's own queue: a shard of a sharded type.
    const queue = ctx.queues.get(ctx.keys.queueOf(record.type, record.id));
    // A record is only found in the queues of registered types, each of which has its queue.
    if (!queue) throw new Error(`no queue for type ${record.type}`);
    return { body: await readLogPage(queue, record, cursor, q.limit) };
  };
