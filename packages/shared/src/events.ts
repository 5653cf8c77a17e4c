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
  /** Position in this job's event log; set by the results store when it records the event. */
  seq?: string;
  progress?: unknown;
  attempt?: number;
  error?: { name: string; message: string };
  /**
   * On a published terminal event only: the job's final record as stored (hash fields),
   * when small (lua/upsert.ts), so a subscriber holding a request for it need not read it.
   */
  record?: Record<string, string>;
}

/**
 * An event as the results store records it: without the id and type, which the job's
 * log key and record already say; the store's script adds `seq` and, on the published
 * copy, the id and type. `event` comes first, for people reading `redis-cli SUBSCRIBE jobs:events`.
 */
export function encodeEvent(e: Omit<JobEvent, 'id' | 'type' | 'seq'>): string {
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

export type EventHead = Pick<JobEvent, 'id' | 'type' | 'event'>;

/** The start of every event the store's scripts publish: seq, id, type, then the event's name. */
const HEAD = /^\{"seq":"\d+","id":"([^"\\]*)","type":"([^"\\]*)","event":"([a-z]+)"/;

/**
 * The id, type and name of a published event, read off its start without parsing the
 * rest: an API process hears every job's events, and most have nobody waiting on them.
 * Null when the text is not in the store's shape (a hand-made publish, an escaped id);
 * parseEvent then decides.
 */
export function peekEvent(raw: string): EventHead | null {
  const m = HEAD.exec(raw);
  if (!m || !eventNames.includes(m[3] as JobEventName)) return null;
  return { id: m[1], type: m[2], event: m[3] as JobEventName };
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
