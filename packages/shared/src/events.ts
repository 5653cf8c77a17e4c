import { z } from 'zod';
import { jobStates } from './job-state';
import { errorInfoSchema } from './schemas/job-resource';

export const eventNames = ['submitted', 'active', 'progress', 'completed', 'failed', 'retrying', 'cancelled'] as const;
export type JobEventName = (typeof eventNames)[number];

/**
 * One lifecycle change: each message on the `jobs:events` channel, and the `data:` of a job
 * stream's `progress` event. The OpenAPI document shows it loose (messages may gain fields).
 */
export const jobEventSchema = z.object({
  event: z.enum(eventNames),
  id: z.string().meta({ description: 'The job id.' }),
  type: z.string(),
  state: z.enum(jobStates).meta({ description: 'The job state after this change.' }),
  at: z.iso.datetime(),
  progress: z.unknown().optional(),
  error: errorInfoSchema.optional().meta({ description: 'On `failed`, `cancelled` and `retrying`: the error of the attempt.' }),
});

export type JobEvent = z.infer<typeof jobEventSchema>;

/** `event` first, for people reading `redis-cli SUBSCRIBE jobs:events`. */
export function encodeEvent(e: JobEvent): string {
  const { event, ...rest } = e;
  return JSON.stringify({ event, ...rest });
}

/** Returns null for anything that is not one of our events, so a stray publish cannot crash a subscriber. */
export function parseEvent(raw: string): JobEvent | null {
  try {
    const e = JSON.parse(raw) as Partial<JobEvent>;
    if (typeof e !== 'object' || e === null) return null;
    if (typeof e.id !== 'string' || typeof e.type !== 'string') return null;
    if (!eventNames.includes(e.event as JobEventName)) return null;
    return e as JobEvent;
  } catch {
    return null;
  }
}

/** A request to every worker, on the control channel. */
export interface ControlMessage {
  action: 'cancel';
  id: string;
  type: string;
}

export function encodeControl(m: ControlMessage): string {
  return JSON.stringify(m);
}

export function parseControl(raw: string): ControlMessage | null {
  try {
    const m = JSON.parse(raw) as Partial<ControlMessage>;
    if (m?.action !== 'cancel' || typeof m.id !== 'string' || typeof m.type !== 'string') return null;
    return m as ControlMessage;
  } catch {
    return null;
  }
}
