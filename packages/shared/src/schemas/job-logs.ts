import { z } from 'zod';
import { queryNumber } from './queries';

/** The most lines one page of `GET /jobs/:id/logs` returns: all that a job keeps. */
export const maxLogPage = 1000;

/** `GET /jobs/:id/logs?cursor=&limit=`. Unknown parameters are ignored, as for GET /jobs. */
export const jobLogsQuerySchema = z.object({
  limit: queryNumber(z.number().int().min(1).max(maxLogPage).default(100)).meta({ description: 'Lines per page.' }),
  cursor: z.string().min(1).max(512).optional().meta({ description: '`nextCursor` of the previous page.' }),
});

export const jobLogPageSchema = z.strictObject({
  logs: z.array(z.strictObject({ message: z.string() })).meta({ description: 'Oldest first.' }),
  nextCursor: z
    .string()
    .nullable()
    .meta({ description: 'Where the next page starts; null once the job has ended and every line was read. While it runs, ask again with it for new lines.' }),
});

export type JobLogPage = z.infer<typeof jobLogPageSchema>;
