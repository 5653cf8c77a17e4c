import { z } from 'zod';
import type { JobResource } from '../job-resource';
import { jobStates } from '../job-state';

export const errorInfoSchema = z.strictObject({ name: z.string(), message: z.string() });

const timestamp = z.iso.datetime().nullable();

/** The job resource of docs/http-api.md, as GET /jobs/:id and every other job answer send it. */
export const jobResourceSchema = z.strictObject({
  id: z.string().meta({ description: 'Opaque id.' }),
  type: z.string().meta({ description: 'The job type, one of GET /types.' }),
  state: z.enum(jobStates).meta({ description: '`completed`, `failed` and `cancelled` are terminal.' }),
  progress: z.union([z.number(), z.record(z.string(), z.unknown()), z.array(z.unknown()), z.string(), z.boolean()]).meta({
    description:
      'What the handler last reported: our handlers report a number 0-100 or an object; a job run by another BullMQ worker shows whatever JSON that worker reported, as BullMQ holds it.',
  }),
  attempts: z.strictObject({ made: z.number().int().min(0), max: z.number().int().min(1) }),
  submittedAt: z.iso.datetime().meta({ description: 'When the job was accepted.' }),
  startedAt: timestamp,
  finishedAt: timestamp,
  result: z.unknown().meta({ description: "The handler's result once `completed`; null before." }),
  error: errorInfoSchema.nullable().meta({ description: 'Why the job ended `failed`; never a stack trace.' }),
  lastError: errorInfoSchema.nullable().meta({ description: 'The error of the latest failed attempt, also while it is retried.' }),
  callback: z
    .strictObject({
      state: z.enum(['pending', 'delivered', 'failed']),
      attempts: z.number().int().min(0),
      lastStatus: z.number().int().nullable(),
    })
    .optional()
    .meta({ description: 'Delivery of the final resource to `options.callbackUrl`, when one was given.' }),
  schedule: z.string().optional().meta({ description: 'For a run of a schedule: its name (`/schedules/{name}`).' }),
  parent: z.strictObject({ id: z.string(), type: z.string() }).optional().meta({ description: 'A child in a flow (POST /flows): the job that waits for it.' }),
  children: z
    .array(z.strictObject({ id: z.string(), type: z.string(), state: z.enum(jobStates) }))
    .optional()
    .meta({ description: 'A parent in a flow (POST /flows): its children and their states, in the order the flow gave them.' }),
  links: z.strictObject({ self: z.string(), result: z.string(), events: z.string() }),
});

/** `GET /jobs`: newest first; `nextCursor` is null on the last page. For any job schema (the plain one, or the document's per-type union). */
export function jobListOf<T extends z.ZodType>(job: T) {
  return z.strictObject({ jobs: z.array(job), nextCursor: z.string().nullable() });
}

// Fails to compile when the resource gains or loses a field this schema does not describe
// (the optional fields may not be in the record type yet).
type Optional = 'callback' | 'parent' | 'children';
type SchemaKeys = Exclude<keyof z.infer<typeof jobResourceSchema>, Optional>;
type ResourceKeys = Exclude<keyof JobResource, Optional>;
const sameKeys: [Exclude<SchemaKeys, ResourceKeys>, Exclude<ResourceKeys, SchemaKeys>] extends [never, never] ? true : never = true;
void sameKeys;
