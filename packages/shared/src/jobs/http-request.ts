import { z } from 'zod';
import type { JobTypeDefinition } from './definition';

export const httpRequest = {
  name: 'http.request',
  description: 'Calls another server over HTTP(S); only hosts in HTTP_ALLOWED_HOSTS may be called.',
  input: z.strictObject({
    url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    headers: z.record(z.string(), z.string()).default({}),
    /** A string is sent as is; anything else is sent as JSON. */
    body: z.unknown().optional(),
  }),
} as const satisfies JobTypeDefinition;
