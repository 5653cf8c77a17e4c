import { listJobsQuerySchema, maxBatchJobs, resultQuerySchema } from '@async-jobs/shared';
import { errors, jobResponse, jsonContent, retryAfter } from './responses';
import { ref } from './refs';
import { queryParameters } from './schemas';

const location = { Location: { description: 'The job resource, `/jobs/{id}`.', schema: { type: 'string' } } };
const readErrors = errors('Unauthorized', 'NotFound', 'Gone', 'RateLimited', 'Unavailable');
const bodyErrors = errors('BadRequest', 'Unauthorized', 'PayloadTooLarge', 'UnsupportedMediaType', 'RateLimited', 'Unavailable');

/** One sample body per built-in type (test/api.openapi.test.ts checks that the API accepts each). */
const submitExamples = {
  echo: { summary: 'echo', value: { type: 'echo', data: { hello: 'world' } } },
  sleep: { summary: 'sleep, with options', value: { type: 'sleep', data: { ms: 5000 }, options: { attempts: 2, timeout: 10000 } } },
  hash: { summary: 'hash', value: { type: 'hash', data: { text: 'hello', algorithm: 'sha256', rounds: 1000 } } },
  httpRequest: {
    summary: 'http.request',
    description: 'Accepted when HTTP_ALLOWED_HOSTS lists the host (here `127.0.0.1:8080`); otherwise 400.',
    value: { type: 'http.request', data: { url: 'http://127.0.0.1:8080/ping' } },
  },
};

/** The job routes. */
export const jobOperations = {
  submitJob: {
    operationId: 'submitJob',
    tags: ['jobs'],
    summary: 'Submit a job',
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Same as `options.idempotencyKey`: a repeat with the same key, type and data returns the first job.',
        schema: { type: 'string', minLength: 1, maxLength: 255 },
      },
      ...queryParameters(resultQuerySchema),
    ],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: ref('SubmitJobRequest'), examples: submitExamples } },
    },
    responses: {
      '202': jobResponse('Accepted: the job as it is then (queued or delayed; with `?wait=S`, whatever it has reached when S passed).', location),
      '200': jobResponse(
        'With `?wait=S`: the job ended in time, and this is the terminal job. Or a replay of an idempotency key (`Idempotent-Replayed: true`): the first job; nothing was enqueued.',
        {
          ...location,
          'Idempotent-Replayed': { schema: { type: 'string', const: 'true' } },
        },
      ),
      ...bodyErrors,
      '409': {
        description: '`conflict`: this idempotency key was used with another type or other data (or concurrent requests with it keep failing).',
        content: jsonContent(ref('Error')),
      },
      '410': {
        description: "`expired`: a repeat of an idempotency key whose first job's record is past RESULT_TTL_SECONDS.",
        content: jsonContent(ref('Error')),
      },
    },
  },
  listJobs: {
    operationId: 'listJobs',
    tags: ['jobs'],
    summary: 'List jobs, newest first',
    parameters: queryParameters(listJobsQuerySchema),
    responses: {
      '200': { description: 'One page; `nextCursor` is null on the last.', content: jsonContent(ref('JobList')) },
      ...errors('BadRequest', 'Unauthorized', 'RateLimited', 'Unavailable'),
    },
  },
  submitBatch: {
    operationId: 'submitBatch',
    tags: ['jobs'],
    summary: `Submit up to ${maxBatchJobs} jobs at once`,
    description: 'All items are validated first: one invalid item rejects the whole batch (400, `details[].index`).',
    requestBody: { required: true, content: jsonContent(ref('BatchRequest')) },
    responses: {
      '202': { description: 'All accepted, in the order of the request.', content: jsonContent(ref('BatchResponse')) },
      ...bodyErrors,
    },
  },
  getJob: {
    operationId: 'getJob',
    tags: ['jobs'],
    summary: 'Read a job',
    responses: { '200': jobResponse('The job.'), ...readErrors },
  },
  cancelJob: {
    operationId: 'cancelJob',
    tags: ['jobs'],
    summary: 'Cancel a job',
    description:
      '`queued`/`delayed`: removed, it never runs (200, state `cancelled`). `active`: its handler is aborted on whichever ' +
      'worker holds it and it ends `cancelled` without retry (202). Terminal: 409.',
    responses: {
      '200': jobResponse('Cancelled.'),
      '202': jobResponse('Active: cancellation requested; watch the job for `cancelled`.'),
      ...readErrors,
      ...errors('Conflict'),
    },
  },
  getJobResult: {
    operationId: 'getJobResult',
    tags: ['jobs'],
    summary: 'Wait for a job to end',
    description: 'With `wait`, the request is held until the job is terminal or `wait` seconds pass.',
    parameters: queryParameters(resultQuerySchema),
    responses: {
      '200': jobResponse('The job is terminal.'),
      '202': jobResponse('Not terminal yet.', retryAfter),
      ...errors('BadRequest'),
      ...readErrors,
    },
  },
  streamJobEvents: {
    operationId: 'streamJobEvents',
    tags: ['jobs'],
    summary: 'Follow a job as Server-Sent Events',
    description:
      'Events `state`, `progress`, `completed`, `failed`, `cancelled`, each with an `id:` and JSON `data:` ' +
      '(`SseJobStream` lists them with their data). The first event is `state` with the current `JobResource`; the ' +
      'changes after it carry a `JobEvent`; the terminal event (`completed`, `failed` or `cancelled`) carries the final ' +
      '`JobResource`, and the stream ends. A `: heartbeat` comment keeps idle connections open.',
    parameters: [
      {
        name: 'Last-Event-ID',
        in: 'header',
        required: false,
        description: 'The `id:` of the last event seen: a reconnecting client gets what it missed.',
        schema: { type: 'string' },
      },
    ],
    responses: {
      '200': {
        description: 'An event stream.',
        content: { 'text/event-stream': { schema: ref('SseJobStream') } },
      },
      '204': {
        description: "`Last-Event-ID` is the id of the job's terminal event, or after it: nothing more will come, and an EventSource stops reconnecting.",
      },
      ...readErrors,
    },
  },
  retryJob: {
    operationId: 'retryJob',
    tags: ['jobs'],
    summary: 'Run a failed job again',
    description: 'Takes no body; one that is sent must be JSON (415 otherwise), and is not read.',
    responses: { '202': jobResponse('Queued again.', location), ...readErrors, ...errors('Conflict', 'UnsupportedMediaType') },
  },
};
