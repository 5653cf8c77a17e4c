import { jobLogsQuerySchema } from '@async-jobs/shared';
import { errors, jsonContent } from './responses';
import { ref } from './refs';
import { queryParameters } from './schemas';

/** GET /jobs/{id}/logs (docs/http-api.md "GET /jobs/{id}/logs"). */
export const jobLogOperations = {
  getJobLogs: {
    operationId: 'getJobLogs',
    tags: ['jobs'],
    summary: "Read a job's log, oldest line first",
    description:
      "The lines its handler wrote with `ctx.log` (or any BullMQ worker with `job.log`), as Bull Board's Logs tab shows them. " +
      'A line is at most 2 KB (a longer one is cut, marked `… [truncated, N bytes]`); the newest 1000 lines are kept, as long ' +
      'as the job itself.',
    parameters: queryParameters(jobLogsQuerySchema),
    responses: {
      '200': { description: 'One page.', content: jsonContent(ref('JobLogPage')) },
      ...errors('BadRequest', 'Unauthorized', 'NotFound', 'Gone', 'RateLimited', 'Unavailable'),
    },
  },
};
