import type { jobDefinitions } from '@async-jobs/shared';
import type { z } from 'zod';
import type { JobHandler } from './handler';

type CollectInput = z.output<typeof jobDefinitions.collect.input>;
type CollectResult = z.output<typeof jobDefinitions.collect.result>;

/** A flow's parent that does nothing but hand on what its children returned. */
export const collect: JobHandler<CollectInput, CollectResult> = {
  name: 'collect',
  run: (_data, ctx) => ({ results: ctx.childResults }),
};
