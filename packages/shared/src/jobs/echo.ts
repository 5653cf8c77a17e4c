import { z } from 'zod';
import type { JobTypeDefinition } from './definition';

export const echo = {
  name: 'echo',
  description: 'Returns its input unchanged; for trying the system out.',
  input: z.record(z.string(), z.unknown()),
  result: z.record(z.string(), z.unknown()).meta({ description: 'The `data` it was given.' }),
} as const satisfies JobTypeDefinition;
