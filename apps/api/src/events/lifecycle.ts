import type { JobEventName, JobState } from '@async-jobs/shared';
import type { StreamEntry } from './streams';

/** BullMQ events after which a job can be terminal: read it then. */
export const ENDING_EVENTS: ReadonlySet<string> = new Set(['completed', 'failed', 'removed']);

export const mayHaveEnded = (e: StreamEntry) => ENDING_EVENTS.has(e.event);

/**
 * What a BullMQ stream entry means on `jobs:events` (API.md "Raw Redis pub/sub"), or null
 * for entries that are not a lifecycle change of ours. `failed` and `removed` are only
 * provisional here: whether a failure was a cancel, and why a job was removed, is read
 * from the job (relay.ts). A `delayed` entry right after its job's `added` is the delayed
 * submit itself (`submitted`, published at submit), not a retry.
 */
export function lifecycleOf(e: StreamEntry, addedJustBefore: boolean): { event: JobEventName; state: JobState } | null {
  switch (e.event) {
    case 'active':
      return { event: 'active', state: 'active' };
    case 'progress':
      return { event: 'progress', state: 'active' };
    case 'completed':
      return { event: 'completed', state: 'completed' };
    case 'failed':
      return { event: 'failed', state: 'failed' };
    case 'removed':
      return { event: 'cancelled', state: 'cancelled' };
    case 'waiting':
      // From active: an attempt failed and the next follows at once; from failed or completed: a retry by hand.
      return e.fields.prev === 'active' || e.fields.prev === 'failed' || e.fields.prev === 'completed' ? { event: 'retrying', state: 'queued' } : null;
    case 'delayed':
      return addedJustBefore ? null : { event: 'retrying', state: 'delayed' };
    default:
      return null;
  }
}

/** The time of a stream entry: its id starts with the milliseconds Redis added it at. */
export const entryTime = (id: string) => new Date(Number(id.split('-')[0])).toISOString();

/** How a job ended, as the job counters count it (a cancel that ran reads `failed` here: telling needs a read). */
export function endedOf(e: StreamEntry): 'completed' | 'failed' | 'cancelled' | null {
  if (e.event === 'completed' || e.event === 'failed') return e.event;
  return e.event === 'removed' ? 'cancelled' : null;
}
