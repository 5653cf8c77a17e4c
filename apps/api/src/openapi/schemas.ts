import {
  batchBodyOf,
  batchResponseOf,
  errorBodySchema,
  errorInfoSchema,
  jobListOf,
  pascalTypeName,
  problemDetailSchema,
  submitOptionsSchema,
  submitRequestVariants,
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

const typeListSchema = z.strictObject({
  types: z.array(
    z.strictObject({
      name: z.string(),
      description: z.string(),
      input: z.record(z.string(), z.unknown()).meta({ description: 'JSON Schema (2020-12) of this type\'s `data`.' }),
    }),
  ),
});

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

  add(submitOptionsSchema, { id: 'SubmitOptions', description: 'All optional: the API fills in `attempts` and `backoff`; no `delay`, `priority` or `timeout` unless given.' });
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
  add(errorInfoSchema, { id: 'ErrorInfo' });
  add(problemDetailSchema, { id: 'ProblemDetail' });
  add(errorBodySchema, { id: 'Error', description: 'The body of every 4xx/5xx answer.' });
  add(jobEventSchema, { id: 'JobEvent', description: 'A lifecycle change, as on the `jobs:events` channel.' });
  add(typeListSchema, { id: 'TypeList' });
  add(z.strictObject({ status: z.literal('ok') }), { id: 'Health' });
  add(z.strictObject({ status: z.literal('ready') }), { id: 'Ready' });
  const digit = z.number().int().min(0).max(9);
  add(z.strictObject({ pushed: digit, list: z.string(), length: z.number().int().min(0) }), {
    id: 'SeedPushed',
    description: 'The digit LPUSHed, the list (its key), and the list\'s length right after.',
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
