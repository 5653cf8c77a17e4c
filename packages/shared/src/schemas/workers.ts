import { z } from 'zod';

/** One live worker process in `GET /workers` (docs/http-api.md "GET /workers"). */
export const workerSchema = z.strictObject({
  id: z
    .string()
    .meta({ description: "The process's BullMQ worker name (`processedBy` of the jobs it runs); for a worker that set none, its connection's address." }),
  host: z.string().meta({ description: 'Host name; for a worker that is not ours, the address it connects from.' }),
  pid: z.number().int().nullable().meta({ description: 'Process id; null for a worker that is not ours.' }),
  types: z.array(z.string()).meta({ description: 'The job types (queues) it serves.' }),
  concurrency: z.number().int().nullable().meta({ description: 'Jobs it runs at once per type (WORKER_CONCURRENCY); null for a worker that is not ours.' }),
  startedAt: z.string().meta({ description: 'When the process started; for a worker that is not ours, when its connection opened.' }),
  lastSeenAt: z.string().meta({ description: "Its latest heartbeat (every 5 s); for a worker that is not ours, its connection's last command." }),
  running: z
    .number()
    .int()
    .min(0)
    .nullable()
    .meta({ description: 'Jobs it runs now (active jobs it took, by `processedBy`); null for a worker without a name.' }),
});

export const workerListSchema = z.strictObject({ workers: z.array(workerSchema) });

export type WorkerInfo = z.infer<typeof workerSchema>;
