import { z } from 'zod';
import { jobStates } from '../job-state';

/**
 * `GET /jobs?type=&state=&limit=&cursor=`. Query values arrive as strings, hence the
 * coercion. Unknown parameters are ignored (cache busters must not break a list).
 */
export const listJobsQuerySchema = z.object({
  type: z.string().min(1).max(200).optional().meta({ description: 'Only jobs of this type.' }),
  state: z.enum(jobStates).optional().meta({ description: 'Only jobs in this state.' }),
  limit: z.coerce.number().int().min(1).max(100).default(20).meta({ description: 'Page size.' }),
  cursor: z.string().min(1).max(512).optional().meta({ description: '`nextCursor` of the previous page.' }),
});

export type ListJobsQuery = z.infer<typeof listJobsQuerySchema>;

/** `GET /jobs/:id/result?wait=S`: hold the request up to S seconds (0-30) for the job to end. */
export const resultQuerySchema = z.object({
  wait: z.coerce.number().min(0).max(30).optional().meta({ description: 'Seconds to wait for a terminal state (0-30).' }),
});

export type ResultQuery = z.infer<typeof resultQuerySchema>;
