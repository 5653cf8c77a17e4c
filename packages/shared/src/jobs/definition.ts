import type { z } from 'zod';

/** The contract of one job type, shared by the API (validation, /types) and the worker. */
export interface JobTypeDefinition {
  /** Also the name of its BullMQ queue. */
  name: string;
  description: string;
  input: z.ZodType;
}
