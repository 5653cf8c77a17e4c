import { z } from 'zod';
import { submitOptionsSchema } from '../jobs/options';

/** docs/http-api.md "POST /flows": a flow's levels (the root is level 1) and its jobs in all. */
export const maxFlowDepth = 5;
export const maxFlowJobs = 1000;

const job = {
  type: z.string().meta({ description: 'The job type, one of GET /types.' }),
  data: z.unknown().meta({ description: "The type's data, as for POST /jobs." }),
  options: submitOptionsSchema.optional(),
};

/** A job below the root of a flow; it may have children of its own. */
export const flowChildSchema: z.ZodType = z.strictObject({
  ...job,
  ignoreDependencyOnFailure: z
    .boolean()
    .optional()
    .meta({ description: 'When true, this job failing (after its attempts) does not fail its parent; the parent runs and is told of the failure.' }),
  get children() {
    return z.array(flowChildSchema).optional();
  },
});

/**
 * POST /flows, for the document. The API walks the tree itself (apps/api/src/flows/flow-tree.ts),
 * checking each job as a POST /jobs body, the depth and the count, so each problem names its node.
 */
export const flowBodySchema = z.strictObject({
  ...job,
  children: z.array(flowChildSchema).min(1).meta({ description: 'Jobs that must complete before this one runs.' }),
});

/** 202 answer of POST /flows: the root's id and every job of the flow, root first, each before its children. */
export function flowResponseOf<T extends z.ZodType>(jobSchema: T) {
  return z.strictObject({ id: z.string(), jobs: z.array(jobSchema) });
}
