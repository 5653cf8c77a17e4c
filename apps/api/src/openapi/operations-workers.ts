import { errors, jsonContent } from './responses';
import { ref } from './refs';

/** GET /workers (docs/http-api.md "GET /workers"). */
export const workerOperations = {
  listWorkers: {
    operationId: 'listWorkers',
    tags: ['operations'],
    summary: 'The live worker processes',
    description:
      "From BullMQ's worker registry (`Queue.getWorkers()`: the named connections of the workers of each type), one entry per " +
      'process, whatever the number of types it serves. A worker of this project also keeps a heartbeat (every 5 s, 25 s TTL): ' +
      'one that stops without a goodbye leaves the list when its connections close (at once for a killed process) or its ' +
      'heartbeat lapses (a machine gone), within 30 s. Other BullMQ workers are listed with what their connection tells.',
    responses: {
      '200': { description: 'Every live worker process.', content: jsonContent(ref('WorkerList')) },
      ...errors('Unauthorized', 'RateLimited', 'Unavailable'),
    },
  },
};
