import { maxFlowDepth, maxFlowJobs } from '@async-jobs/shared';
import { errors, jsonContent } from './responses';
import { ref } from './refs';

const example = {
  summary: 'three children and a collect parent',
  value: {
    type: 'collect',
    data: {},
    children: [
      { type: 'echo', data: { n: 1 } },
      { type: 'hash', data: { text: 'abc' } },
      { type: 'sleep', data: { ms: 500 }, ignoreDependencyOnFailure: true },
    ],
  },
};

/** POST /flows (docs/http-api.md "POST /flows"). */
export const flowOperations = {
  submitFlow: {
    operationId: 'submitFlow',
    tags: ['jobs'],
    summary: 'Submit a flow: a job that runs after its children',
    description:
      `At most ${maxFlowDepth} levels and ${maxFlowJobs} jobs, all validated first (400, each problem's \`path\` names its node, ` +
      'e.g. `children.1.data.text`; nothing is written). A parent reads `waiting-children` until its children complete, then ' +
      'runs with their results; a child that fails for good fails its parent unless it set `ignoreDependencyOnFailure`.',
    requestBody: { required: true, content: { 'application/json': { schema: ref('FlowRequest'), examples: { collect: example } } } },
    responses: {
      '202': {
        description: 'All accepted: the root job id and every job, root first.',
        headers: { Location: { description: 'The root job, `/jobs/{id}`.', schema: { type: 'string' } } },
        content: jsonContent(ref('FlowResponse')),
      },
      ...errors('BadRequest', 'Unauthorized', 'PayloadTooLarge', 'UnsupportedMediaType', 'RateLimited', 'Unavailable'),
    },
  },
};
