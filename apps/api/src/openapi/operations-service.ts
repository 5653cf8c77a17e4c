import { errors, jsonContent } from './responses';
import { ref } from './refs';

const open: never[] = [];
const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
const backHome = {
  description: 'Done; back to the index page.',
  headers: { Location: { schema: { type: 'string', const: '/' } } },
  content: { 'text/plain': { schema: { type: 'string', examples: ['See Other. Redirecting to /'] } } },
};

/** One random digit onto the seed article's Redis list or channel, then 303 to `/`, or what was sent as JSON. */
const seedOperation = (id: string, what: string, sent: string) => ({
  operationId: id,
  tags: ['demo'],
  summary: what,
  description:
    'A link, a form or any client that does not ask for JSON is sent back to `/` (303). With `Accept: application/json` (as the index page asks) the answer is 200 with what was sent.',
  responses: {
    '200': { description: 'Sent; asked for with `Accept: application/json`.', content: jsonContent(ref(sent)) },
    '303': backHome,
    ...errors('Unauthorized', 'RateLimited', 'Unavailable'),
  },
});

const typeNotFound = {
  description: '`not_found`: no job type of that name; `details[0].knownTypes` lists the registered ones.',
  content: jsonContent(ref('Error')),
};
/** The type actions take no body; one that is sent must be JSON (415 otherwise), and is not read. */
const typeErrors = { '404': typeNotFound, ...errors('Unauthorized', 'UnsupportedMediaType', 'RateLimited', 'Unavailable') };
const typeAction = (operationId: string, summary: string) => ({
  operationId,
  tags: ['jobs'],
  summary,
  responses: { '200': { description: 'The type as GET /types shows it now.', content: jsonContent(ref('TypeItem')) }, ...typeErrors },
});

/** Everything but the job routes: types, probes, metrics, documents, pages. */
export const serviceOperations = {
  listTypes: {
    operationId: 'listTypes',
    tags: ['jobs'],
    summary: 'The registered job types: the JSON Schema of their `data`, paused or not, limits and counts',
    responses: { '200': { description: 'Every type.', content: jsonContent(ref('TypeList')) }, ...errors('Unauthorized', 'RateLimited', 'Unavailable') },
  },
  pauseType: typeAction('pauseType', 'Pause a type: submits are still accepted (202), nothing of it starts until resumed; running jobs finish. Idempotent.'),
  resumeType: typeAction('resumeType', 'Resume a paused type: its waiting jobs start again. Idempotent.'),
  retryFailedOfType: {
    operationId: 'retryFailedOfType',
    tags: ['jobs'],
    summary: 'Run every failed job of a type again',
    description:
      'Each failed job (not those that read `cancelled`) gets one more attempt, as with POST /jobs/{id}/retry. Done in pages of a few ' +
      'hundred jobs, so Redis is never blocked; the answer comes once all are queued again, which for many thousands of jobs takes seconds.',
    responses: {
      '202': { description: 'Queued again; `retried` says how many.', content: jsonContent(ref('RetriedCount')) },
      ...typeErrors,
    },
  },
  health: {
    operationId: 'health',
    tags: ['operations'],
    summary: 'The process is up (no Redis call)',
    security: open,
    responses: { '200': { description: 'Up.', content: jsonContent(ref('Health')) } },
  },
  ready: {
    operationId: 'ready',
    tags: ['operations'],
    summary: 'Redis answers',
    security: open,
    responses: { '200': { description: 'Ready.', content: jsonContent(ref('Ready')) }, ...errors('Unavailable') },
  },
  metrics: {
    operationId: 'metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics of this API instance',
    description:
      'Its HTTP timings, the job counters it counted (only the process holding the event relay counts, so sum them over API processes), and the queue depth read from Redis. While Redis is away it still answers 200 at once, the queue depth left out. Workers serve their own on WORKER_METRICS_PORT.',
    responses: {
      '200': { description: 'Prometheus text format 0.0.4.', content: { 'text/plain': { schema: { type: 'string' } } } },
      ...errors('Unauthorized', 'RateLimited'),
    },
  },
  openapi: {
    operationId: 'openapi',
    tags: ['operations'],
    summary: 'This document',
    responses: {
      '200': { description: 'OpenAPI 3.1.', content: jsonContent({ type: 'object' }) },
      ...errors('Unauthorized', 'RateLimited'),
    },
  },
  docs: {
    operationId: 'docs',
    tags: ['operations'],
    summary: 'This document, rendered (Swagger UI)',
    responses: { '200': html('The reference page.'), ...errors('Unauthorized', 'RateLimited') },
  },
  indexPage: {
    operationId: 'indexPage',
    tags: ['demo'],
    summary: 'The index page: demo links, Bull Board, a form to submit a job and watch it',
    security: open,
    responses: { '200': html('The page.'), ...errors('RateLimited') },
  },
  prodconsGet: seedOperation('prodconsGet', 'LPUSH a random digit onto `task:prodcons:queue`', 'SeedPushed'),
  prodconsPost: seedOperation('prodconsPost', 'LPUSH a random digit onto `task:prodcons:queue`', 'SeedPushed'),
  pubsubGet: seedOperation('pubsubGet', 'PUBLISH a random digit on `task:pubsub:channel`', 'SeedPublished'),
  pubsubPost: seedOperation('pubsubPost', 'PUBLISH a random digit on `task:pubsub:channel`', 'SeedPublished'),
};

/** Bull Board, which admin.ts mounts at ADMIN_PATH under the admin guard (not the route table's). */
export const adminOperation = {
  operationId: 'bullBoard',
  tags: ['admin'],
  summary: 'Bull Board, the queues dashboard',
  description: 'Open without credentials only where the API is open too: ADMIN_PASSWORD and API_TOKENS empty, on a loopback HOST or with ALLOW_INSECURE.',
  security: [{ adminBasic: [] }],
  responses: {
    '200': html('The dashboard.'),
    '401': {
      description: 'Admin credentials are required.',
      headers: { 'WWW-Authenticate': { schema: { type: 'string' } } },
      content: jsonContent(ref('Error')),
    },
    ...errors('RateLimited'),
  },
};
