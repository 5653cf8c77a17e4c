import { SCHEDULE_NAME } from '@async-jobs/shared';

/** The path parameters of the route table's patterns (`:id` in routes.ts), as the document states them. */
export const pathParams: Record<string, object> = {
  id: { name: 'id', in: 'path', required: true, description: 'The job id.', schema: { type: 'string' } },
  type: { name: 'type', in: 'path', required: true, description: 'A registered job type, e.g. `hash`.', schema: { type: 'string' } },
  name: {
    name: 'name',
    in: 'path',
    required: true,
    description: 'The schedule name: 1-100 letters, digits, `_`, `.` and `-`; unique across types.',
    schema: { type: 'string', pattern: SCHEDULE_NAME.source },
  },
};

/** A route table pattern (`/jobs/:id`) in OpenAPI's spelling (`/jobs/{id}`), as the document and error messages write it. */
export const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');
