import { z } from 'zod';
import type { JobTypeDefinition } from './definition';

export const hash = {
  name: 'hash',
  description: 'Hashes text, optionally re-hashing the digest many times; stands in for CPU-bound work.',
  input: z.strictObject({
    text: z.string(),
    algorithm: z.enum(['sha256', 'sha512', 'md5']).default('sha256'),
    rounds: z.number().int().min(1).max(1000000).default(1),
  }),
  result: z.strictObject({
    digest: z
      .string()
      .regex(/^[0-9a-f]+$/)
      .meta({ description: "The last round's digest, lowercase hex." }),
  }),
} as const satisfies JobTypeDefinition;
