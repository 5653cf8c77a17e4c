import { jobLogsQuerySchema } from '@async-jobs/shared';
import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import { decodeLogCursor, readLogPage } from '../jobs/job-logs';
import { parseOr400, validationFailed } from '../middleware/validate';
import { loadRecord } from './jobs';

/** GET /jobs/:id/logs?cursor=&limit=: the job's log lines, oldest first; 404 and 410 as GET /jobs/:id. */
export const jobLogsRoute = (ctx: AppContext) =>
  async function jobLogs(req: Request, res: Response) {
    const q = parseOr400(jobLogsQuerySchema, req.query);
    const cursor = q.cursor === undefined ? null : decodeLogCursor(q.cursor);
    if (q.cursor !== undefined && !cursor) throw validationFailed([{ path: 'cursor', message: 'not a cursor this API returned (use nextCursor as it is)' }]);
    const record = await loadRecord(ctx, String(req.params.id));
    const queue = ctx.queues.get(record.type);
    // A record is only found in the queues of registered types, each of which has its queue.
    if (!queue) throw new Error(`no queue for type ${record.type}`);
    res.json(await readLogPage(queue, record, cursor, q.limit));
  };
