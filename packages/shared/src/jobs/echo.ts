import { z } from 'zod';
import type { JobTypeDefinition } from './definition';

export const echo = {
  name: 'echo',
  description: 'Returns its input unchanged; for trying the system out.',
  input: z.record(z.string(), z.unknown()),
} as const satisfies JobTypeDefinition;
