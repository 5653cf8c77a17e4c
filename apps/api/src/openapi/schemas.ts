import {
  batchBodyOf,
  batchResponseOf,
  errorBodySchema,
  errorInfoSchema,
  flowBodySchema,
  flowChildSchema,
  flowResponseOf,
  jobListOf,
  jobLogPageSchema,
  pascalTypeName,
  problemDetailSchema,
  scheduleListSchema,
  scheduleOptionsSchema,
  scheduleRequestSchema,
  scheduleResourceSchema,
  submitOptionsSchema,
  submitRequestVariants,
  workerListSchema,
} from '@async-jobs/shared';
import { z } from 'zod';
import { defaultsInWords } from './defaults-in-words';
import { jobResourceVariants } from './job-resources';
import { ref } from './refs';
import { jobEventSchema, streamComponents } from './stream-events';

/** Metadata a component may carry into the document besides its name. */
interface ComponentMeta {
  id: string;
  description?: string;
  discriminator?: { propertyName: string; mapping: Record<string, string> };
}

const count = z.number().int().min(0);
const typeItemSchema = z.strictObject({
  name: z.string(),
  description: z.string(),
  input: z.record(z.string(), z.unknown()).meta({ description: "JSON Schema (2020-12) of this type's `data`." }),
  paused: z.boolean().meta({ description: 'Paused (POST /types/{type}/pause): submits are accepted, nothing starts until resumed.' }),
  limits: z
    .strictObject({
      rate: z
        .strictObject({ max: z.number().int().min(1), durationMs: z.number().int().min(1) })
        .optional()
        .meta({ description: 'At most `max` jobs of this type start per `durationMs`, across all workers.' }),
      concurrency: z.number().int().min(1).optional().meta({ description: 'At most this many run at once, across all workers.' }),
    })
    .meta({
      description: 'From TYPE_LIMITS, as BullMQ holds them; `{}` when none. For a sharded type they hold per shard: N shards allow N times the limit.',
    }),
  shards: z
    .number()
    .int()
    .min(1)
    .meta({ description: 'How many queues the type is spread over (QUEUE_SHARDS); 1 when not sharded. Counts are summed over them.' }),
  counts: z.strictObject({ waiting: count, active: count, delayed: count, completed: count, failed: count }).meta({
    description:
      "`waiting`: jobs that read `queued` (also while the type is paused, and prioritized ones); `failed`: BullMQ's failed set, " +
      'which also holds jobs cancelled while they ran. Flow parents waiting for their children are in none of them.',
  }),
});
const typeListSchema = z.strictObject({ types: z.array(typeItemSchema) });

/**
 * Every named schema of the document, converted from the zod schemas the API validates
 * with (packages/shared), so the document cannot drift from what the API accepts.
 */
export function componentSchemas(): Record<string, Record<string, unknown>> {
  const registry = z.registry<{ id: string }>();
  // zod takes only the ids from this registry (other metadata comes from its global one),
  // so the rest of each component's metadata is merged in after the conversion.
  const extras = new Map<string, Omit<ComponentMeta, 'id'>>();
  const add = (schema: z.ZodType, { id, ...rest }: ComponentMeta) => {
    registry.add(schema, { id });
    extras.set(id, rest);
    return schema;
  };

  add(submitOptionsSchema, {
    id: 'SubmitOptions',
    description: 'All optional: the API fills in `attempts` and `backoff`; no `delay`, `priority` or `timeout` unless given.',
  });
  const mapping: Record<string, string> = {};
  const variants = submitRequestVariants().map(({ type, description, schema }) => {
    const name = pascalTypeName(type);
    // The data schema as GET /types serves it (but see defaults-in-words.ts), under a name of its own.
    add(schema.shape.data, { id: `${name}Data` });
    mapping[type] = ref(`Submit${name}Job`).$ref;
    return add(schema, { id: `Submit${name}Job`, description: `\`${type}\`: ${description}` });
  });
  const submitJob = add(z.discriminatedUnion('type', variants as [z.ZodObject, ...z.ZodObject[]]), {
    id: 'SubmitJobRequest',
    description: 'One job: its `type`, the `data` that type takes, and options.',
    discriminator: { propertyName: 'type', mapping },
  });
  add(batchBodyOf(submitJob), { id: 'BatchRequest', description: 'Validated whole: one invalid item rejects the batch.' });

  const resources = jobResourceVariants(add);
  const job = add(z.discriminatedUnion('type', resources.variants as [z.ZodObject, ...z.ZodObject[]]), {
    id: 'JobResource',
    description: 'A job, whatever its type; `type` says which, and with it the shape of `result`.',
    discriminator: { propertyName: 'type', mapping: resources.mapping },
  });
  add(batchResponseOf(job), { id: 'BatchResponse', description: 'The jobs, in the order of the request.' });
  add(jobListOf(job), { id: 'JobList' });
  add(flowChildSchema, { id: 'FlowChild', description: 'A job of a flow below its root, with children of its own or none.' });
  add(flowBodySchema, {
    id: 'FlowRequest',
    description: 'A flow: a job whose children must complete before it runs. Each job is checked as a POST /jobs body.',
  });
  add(flowResponseOf(job), { id: 'FlowResponse', description: "The root job's id, and every job of the flow, root first, each before its children." });
  add(errorInfoSchema, { id: 'ErrorInfo' });
  add(problemDetailSchema, { id: 'ProblemDetail' });
  add(errorBodySchema, { id: 'Error', description: 'The body of every 4xx/5xx answer.' });
  add(jobEventSchema, { id: 'JobEvent', description: 'A lifecycle change, as on the `jobs:events` channel.' });
  add(typeItemSchema, { id: 'TypeItem', description: "A job type: its input schema, and its queue's state in BullMQ." });
  add(typeListSchema, { id: 'TypeList' });
  add(z.strictObject({ retried: count }), { id: 'RetriedCount', description: 'How many failed jobs were queued again.' });
  add(workerListSchema, { id: 'WorkerList', description: 'The live worker processes, one entry each.' });
  add(jobLogPageSchema, { id: 'JobLogPage', description: "One page of a job's log." });
  add(scheduleOptionsSchema, { id: 'ScheduleOptions', description: "Each run's options: those of a submit but `delay`, `idempotencyKey` and `callbackUrl`." });
  add(scheduleRequestSchema, {
    id: 'ScheduleRequest',
    description: 'Exactly one of `cron` and `every`; `data` is what `type` takes (see `SubmitJobRequest`).',
  });
  add(scheduleResourceSchema, { id: 'Schedule', description: 'A schedule: `cron` (with `tz`) or `every`, never both.' });
  add(scheduleListSchema, { id: 'ScheduleList' });
  add(z.strictObject({ status: z.literal('ok') }), { id: 'Health' });
  add(z.strictObject({ status: z.literal('ready') }), { id: 'Ready' });
  const digit = z.number().int().min(0).max(9);
  add(z.strictObject({ pushed: digit, list: z.string(), length: z.number().int().min(0) }), {
    id: 'SeedPushed',
    description: "The digit LPUSHed, the list (its key), and the list's length right after.",
  });
  add(z.strictObject({ published: digit, channel: z.string(), receivers: z.number().int().min(0) }), {
    id: 'SeedPublished',
    description: 'The digit PUBLISHed, the channel, and how many subscribers received it.',
  });

  const out = z.toJSONSchema(registry, { io: 'input', unrepresentable: 'any', uri: (id) => ref(id).$ref }) as {
    schemas: Record<string, Record<string, unknown>>;
  };
  // Each component is a schema inside the document, not a document of its own.
  for (const [id, s] of Object.entries(out.schemas)) {
    delete s.$schema;
    delete s.$id;
    Object.assign(s, extras.get(id));
    defaultsInWords(s);
  }
  return { ...out.schemas, ...streamComponents };
}

/** A zod object of query parameters as OpenAPI parameter objects, one per property. */
export function queryParameters(schema: z.ZodObject) {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { description?: string }>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, { description, ...rest }]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    ...(description ? { description } : {}),
    schema: rest,
  }));
}
