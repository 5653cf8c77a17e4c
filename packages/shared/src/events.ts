import type { JobState } from './job-state';

export const eventNames = ['submitted', 'active', 'progress', 'completed', 'failed', 'retrying', 'cancelled'] as const;
export type JobEventName = (typeof eventNames)[number];

/** One lifecycle change, as published on `jobs:events`. */
export interface JobEvent {
  event: JobEventName;
  id: string;
  type: string;
  at: string;
  state: JobState;
  progress?: unknown;
  error?: { name: string; message: string };
}

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
