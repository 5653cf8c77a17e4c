import { jobEventSchema as strictShape } from '@async-jobs/shared';
import { ref } from './refs';

/** A lifecycle change as the document shows it: messages may gain fields. */
export const jobEventSchema = strictShape.loose();

/**
 * One Server-Sent Event of GET /jobs/:id/events. The SSE fields are text, so `data` is a
 * string whose JSON is described by `contentSchema` (JSON Schema 2020-12), the way OpenAPI
 * 3.2 describes event streams.
 */
function sseEvent(event: string, description: string, data: object) {
  return {
    type: 'object',
    description,
    properties: {
      id: {
        type: 'string',
        description: "The id of the change in BullMQ's event stream of the job's queue (`<ms>-<n>`); send the last one back as `Last-Event-ID` to resume.",
      },
      event: { type: 'string', const: event },
      data: { type: 'string', contentMediaType: 'application/json', contentSchema: data },
    },
    required: ['id', 'event', 'data'],
  };
}

const terminal = (state: string) => sseEvent(state, `The job ended \`${state}\`: the final job resource. The stream ends after it.`, ref('JobResource'));

/** The named components of the event stream, as JSON Schema; merged into the document's schemas. */
export const streamComponents = {
  SseStateEvent: sseEvent('state', 'The job resource: first as it is when the stream opens, then after each change of state.', ref('JobResource')),
  SseProgressEvent: sseEvent('progress', 'The handler reported progress (`JobEvent` with `progress`).', ref('JobEvent')),
  SseCompletedEvent: terminal('completed'),
  SseFailedEvent: terminal('failed'),
  SseCancelledEvent: terminal('cancelled'),
  SseJobStream: {
    type: 'array',
    description:
      'The whole stream as the sequence of its events (OpenAPI 3.1 has no schema for one item of a stream). ' +
      'Lines starting with `:` are heartbeats; ignore them.',
    items: {
      oneOf: ['SseStateEvent', 'SseProgressEvent', 'SseCompletedEvent', 'SseFailedEvent', 'SseCancelledEvent'].map(ref),
      discriminator: {
        propertyName: 'event',
        mapping: {
          state: ref('SseStateEvent').$ref,
          progress: ref('SseProgressEvent').$ref,
          completed: ref('SseCompletedEvent').$ref,
          failed: ref('SseFailedEvent').$ref,
          cancelled: ref('SseCancelledEvent').$ref,
        },
      },
    },
  },
};
