import { z } from 'zod';
import { errorInfoSchema } from '../schemas/job-resource';
import type { JobTypeDefinition } from './definition';

/** One child of a flow's parent as its handler sees it (`ctx.childResults`), in the order the flow gave. */
export const childResultSchema = z.strictObject({
  id: z.string(),
  type: z.string(),
  state: z.enum(['completed', 'failed', 'cancelled']),
  result: z.unknown().optional().meta({ description: "The child's result, when `completed`." }),
  error: errorInfoSchema.optional().meta({ description: 'Why the child did not complete (a failure its parent was told to ignore, or a cancel).' }),
});

export const collect = {
  name: 'collect',
  description: "The parent of a flow (POST /flows): returns its children's results, in the order the flow gave them.",
  input: z.strictObject({}),
  result: z.strictObject({ results: z.array(childResultSchema) }),
} as const satisfies JobTypeDefinition;
