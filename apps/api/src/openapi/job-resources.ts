import { jobResourceSchema, jobTypes, pascalTypeName } from '@async-jobs/shared';
import { z } from 'zod';
import { ref } from './refs';

type Add = (schema: z.ZodType, meta: { id: string; description?: string }) => z.ZodType;

/**
 * The job resource once per registered type, `type` telling them apart, so that `result`
 * has the shape that type's handler returns (its `result` schema in packages/shared/src/jobs).
 * A client generated from the document can then read `job.result.digest` of a `hash` job.
 */
export function jobResourceVariants(add: Add) {
  const shape = jobResourceSchema.shape;
  // Named once, referred to by every variant.
  add(shape.attempts, { id: 'Attempts' });
  add(shape.links, { id: 'JobLinks' });
  add(shape.callback.unwrap(), { id: 'CallbackDelivery' });

  const mapping: Record<string, string> = {};
  const variants = [...jobTypes.values()].map((t) => {
    const name = pascalTypeName(t.name);
    mapping[t.name] = ref(`${name}JobResource`).$ref;
    const result = t.result ? add(t.result, { id: `${name}Result` }) : z.unknown();
    return add(
      jobResourceSchema.extend({
        type: z.literal(t.name),
        result: result.nullable().meta({
          description:
            `What the \`${t.name}\` handler returned, once \`completed\`; null until then, and for a job that failed or was cancelled. ` +
            'A job of this type run by another BullMQ worker has whatever that worker returned.',
        }),
      }),
      { id: `${name}JobResource`, description: `A \`${t.name}\` job.` },
    ) as z.ZodObject;
  });
  return { variants, mapping };
}
