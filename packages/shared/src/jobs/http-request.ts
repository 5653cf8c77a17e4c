import { z } from 'zod';
import type { JobTypeDefinition } from './definition';

export const httpRequest = {
  name: 'http.request',
  description: 'Calls another server over HTTP(S); only hosts in HTTP_ALLOWED_HOSTS may be called.',
  input: z.strictObject({
    url: z.url({ protocol: /^https?$/ }),
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    headers: z.record(z.string(), z.string()).default({}),
    /** A string is sent as is; anything else is sent as JSON. */
    body: z.unknown().optional(),
  }),
  result: z.strictObject({
    status: z.number().int().min(100).max(499).meta({ description: "The answer's status; a 5xx fails the attempt instead." }),
    headers: z.record(z.string(), z.string()).meta({ description: "The answer's headers, names in lower case." }),
    body: z.unknown().meta({ description: 'The parsed JSON when the answer says it is JSON and it parses; otherwise the text (empty for no body).' }),
  }),
} as const satisfies JobTypeDefinition;
