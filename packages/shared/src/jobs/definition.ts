import type { z } from 'zod';
import type { Config } from '../config';

/** Where in a job's data (path below `data`) a setting refuses it, and why. */
export interface DataRefusal {
  path: string[];
  message: string;
}

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
  /**
   * What this deployment's settings refuse of data the schema accepts, or null. The API
   * answers 400 at submit instead of letting every attempt fail; the handler checks again
   * at run time, for jobs other producers add and for workers set up otherwise.
   */
  refusal?(input: unknown, config: Config): DataRefusal | null;
}
