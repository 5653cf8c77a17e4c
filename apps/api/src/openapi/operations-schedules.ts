import { errors, jsonContent } from './responses';
import { ref } from './refs';

const notFound = { description: '`not_found`: no schedule of that name.', content: jsonContent(ref('Error')) };
const schedule = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: jsonContent(ref('Schedule')),
});

const putExamples = {
  cron: { summary: 'every night at 3:00, Paris time', value: { type: 'hash', data: { text: 'nightly' }, cron: '0 3 * * *', tz: 'Europe/Paris' } },
  every: { summary: 'every 10 seconds, 100 runs', value: { type: 'echo', data: { ping: true }, every: 10000, limit: 100, options: { attempts: 1 } } },
};

/** PUT, GET, DELETE /schedules/{name} and GET /schedules: BullMQ job schedulers whose runs are ordinary jobs. */
export const scheduleOperations = {
  listSchedules: {
    operationId: 'listSchedules',
    tags: ['schedules'],
    summary: 'Every schedule, by name',
    responses: {
      '200': { description: 'Every schedule of every type.', content: jsonContent(ref('ScheduleList')) },
      ...errors('Unauthorized', 'RateLimited', 'Unavailable'),
    },
  },
  putSchedule: {
    operationId: 'putSchedule',
    tags: ['schedules'],
    summary: 'Create or replace a schedule',
    description:
      'Exactly one of `cron` (5 fields, or 6 with seconds first; in `tz`, default UTC) and `every` (ms, at least 1000). ' +
      '`type`, `data` and `options` are checked as POST /jobs checks them; `options` takes no `delay`, `idempotencyKey` ' +
      'or `callbackUrl`. Replacing drops the pending run of the old schedule; a name held by another type moves to this one. ' +
      'Every run is an ordinary job with `schedule` set to the name.',
    requestBody: { required: true, content: { 'application/json': { schema: ref('ScheduleRequest'), examples: putExamples } } },
    responses: {
      '201': schedule('Created.', { Location: { description: 'The schedule, `/schedules/{name}`.', schema: { type: 'string' } } }),
      '200': schedule('Replaced the schedule of that name.'),
      ...errors('BadRequest', 'Unauthorized', 'PayloadTooLarge', 'UnsupportedMediaType', 'RateLimited', 'Unavailable'),
      '409': {
        description: '`conflict`: another request is changing this schedule and did not finish within 5 seconds; retry.',
        content: jsonContent(ref('Error')),
      },
    },
  },
  getSchedule: {
    operationId: 'getSchedule',
    tags: ['schedules'],
    summary: 'Read a schedule, with its next run time and its recent runs',
    responses: { '200': schedule('The schedule.'), '404': notFound, ...errors('Unauthorized', 'RateLimited', 'Unavailable') },
  },
  deleteSchedule: {
    operationId: 'deleteSchedule',
    tags: ['schedules'],
    summary: 'Delete a schedule',
    description: 'No run comes after this; the pending run is removed (it reads `cancelled`), a run already queued or running ends as usual.',
    responses: {
      '204': { description: 'Deleted.' },
      '404': notFound,
      ...errors('Unauthorized', 'RateLimited', 'Unavailable'),
      '409': { description: '`conflict`: another request is changing this schedule; retry.', content: jsonContent(ref('Error')) },
    },
  },
};
