import { z } from 'zod';
import { jobStates } from '../job-state';

/** Digits, with an optional fraction: what a number in a query string may look like. */
const DECIMAL = /^[0-9]+(\.[0-9]+)?$/;

/**
 * A number read from a query string, which arrives as text: only plain decimal digits
 * are read as the number they spell. Anything else (`0x1e`, `1e1`, ` `, `Infinity`, an
 * empty value) is left as it came and fails `schema` with its usual words ("wait must be
 * a number from 0 to 30"); a repeated parameter is refused before any schema
 * (apps/api/src/middleware/query-params.ts). `z.coerce.number()` read `0x1e`
 * as 30 and a blank as 0.
 */
export const queryNumber = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (typeof v === 'string' && DECIMAL.test(v) ? Number(v) : v), schema);

/**
 * `GET /jobs?type=&state=&limit=&cursor=`. Query values arrive as strings, hence
 * queryNumber. Parameters it does not declare are refused before it is read
 * (apps/api/src/middleware/query-params.ts).
 */
export const listJobsQuerySchema = z.object({
  type: z.string().min(1).max(200).optional().meta({ description: 'Only jobs of this type.' }),
  state: z.enum(jobStates).optional().meta({ description: 'Only jobs in this state.' }),
  // The default inside: on the outside of the preprocess, the OpenAPI document loses it.
  limit: queryNumber(z.number().int().min(1).max(100).default(20)).meta({ description: 'Page size, in decimal digits.' }),
  cursor: z.string().min(1).max(512).optional().meta({ description: '`nextCursor` of the previous page.' }),
});

export type ListJobsQuery = z.infer<typeof listJobsQuerySchema>;

/** `GET /jobs/:id/result?wait=S` and `POST /jobs?wait=S`: hold the request up to S seconds (0-30) for the job to end. */
export const resultQuerySchema = z.object({
  wait: queryNumber(z.number().min(0).max(30))
    .optional()
    .meta({ description: 'Seconds to wait for a terminal state, 0-30, in plain decimal digits (`5`, `2.5`).' }),
});

export type ResultQuery = z.infer<typeof resultQuerySchema>;
