import type { JobEventName, JobState } from '@async-jobs/shared';
import type { StreamEntry } from './streams';

/** BullMQ events after which a job can be terminal: read it then. */
export const ENDING_EVENTS: ReadonlySet<string> = new Set(['completed', 'failed', 'removed']);

export const mayHaveEnded = (e: StreamEntry) => ENDING_EVENTS.has(e.event);

/** The removal of a job that had already ended (a cleanup, an operator): its ending was told when it came. */
export const removedAfterEnding = (e: StreamEntry) => e.event === 'removed' && (e.fields.prev === 'completed' || e.fields.prev === 'failed');

/**
 * What a BullMQ stream entry means on `jobs:events` (docs/http-api.md "The jobs:events channel"), or null
 * for entries that are not a lifecycle change of ours. `failed` and `removed` are only
 * provisional here: whether a failure was a cancel, and why a job was removed, is read
 * from the job (relay.ts). `delayedRetry`: whether a `delayed` entry is an attempt's retry,
 * rather than the delayed submit itself (`submitted`, published at submit) or a change of a
 * delayed job's run time (delayed-entries.ts).
 */
export function lifecycleOf(e: StreamEntry, delayedRetry: boolean): { event: JobEventName; state: JobState } | null {
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
      return delayedRetry ? { event: 'retrying', state: 'delayed' } : null;
    default:
      return null;
  }
}

/**
 * Whether a `retrying` entry came back from a running attempt (it failed or stalled), not
 * from an operator's retry of a finished job (`prev` failed or completed, lifecycleOf).
 */
export const backFromAttempt = (e: StreamEntry) => e.fields.prev !== 'failed' && e.fields.prev !== 'completed';

/** An operator's retry of a job that had ended (`waiting` from failed or completed). */
export const retriedByHand = (e: StreamEntry) => e.event === 'waiting' && !backFromAttempt(e);

/** The time of a stream entry: its id starts with the milliseconds Redis added it at. */
export const entryTime = (id: string) => new Date(Number(id.split('-')[0])).toISOString();

/** What the job counters count (metrics/registry.ts): how a job ended, or that it went back for another attempt. */
export type CountedChange = 'completed' | 'failed' | 'cancelled' | 'retrying';

/**
 * What a relayed stream entry counts as, or null. `cancelled` is the job's state as read
 * after a `failed` entry (a cancel that ran); a `removed` job that had already ended was
 * counted when it ended, so its removal (cleanup, an operator) is not counted again.
 */
export function countedAs(e: StreamEntry, delayedRetry: boolean, stateAfter: JobState | undefined): CountedChange | null {
  switch (e.event) {
    case 'completed':
      return 'completed';
    case 'failed':
      return stateAfter === 'cancelled' ? 'cancelled' : 'failed';
    case 'removed':
      return removedAfterEnding(e) ? null : 'cancelled';
    case 'waiting':
    case 'delayed':
      return lifecycleOf(e, delayedRetry)?.event === 'retrying' ? 'retrying' : null;
    default:
      return null;
  }
}
