import type { z } from 'zod';

/** The contract of one job type, shared by the API (validation, /types, the OpenAPI document) and the worker. */
export interface JobTypeDefinition {
  /** Also the name of its BullMQ queue. */
  name: string;
  description: string;
  input: z.ZodType;
  /**
   * What the built-in handler returns (`result` of a completed job). The handler's return
   * type is derived from it; the OpenAPI document types `result` per job type with it.
   * Optional: without it, the document says nothing of the result.
   */
  result?: z.ZodType;
}
