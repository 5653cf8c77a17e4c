import { z } from 'zod';
import type { JobTypeDefinition } from './definition';

export const sleep = {
  name: 'sleep',
  description: 'Waits the given number of milliseconds, reporting progress with a job log line for each report; stands in for slow I/O.',
  input: z.strictObject({ ms: z.number().int().min(0).max(600000) }),
  result: z.strictObject({ sleptMs: z.number().int().min(0) }),
} as const satisfies JobTypeDefinition;
