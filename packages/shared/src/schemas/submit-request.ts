import { z } from 'zod';
import { jobTypes } from '../jobs/index';
import { submitOptionsSchema } from '../jobs/options';

/** `http.request` -> `HttpRequest`: a name fit for a schema component. */
export const pascalTypeName = (type: string) =>
  type
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');

/**
 * The body of POST /jobs as one schema per registered type, `type` telling them apart:
 * the same parts the API checks (envelope, options, the type's input), joined so that a
 * client or a document sees which `data` goes with which `type`.
 */
export function submitRequestVariants() {
  return [...jobTypes.values()].map((t) => ({
    type: t.name,
    description: t.description,
    schema: z.strictObject({
      type: z.literal(t.name),
      data: t.input,
      options: submitOptionsSchema.optional(),
    }),
  }));
}
