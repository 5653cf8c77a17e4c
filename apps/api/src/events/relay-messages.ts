import type { JobEvent } from '@async-jobs/shared';
import { entryTime, lifecycleOf } from './lifecycle';
import type { StreamEntry } from './streams';

/** What the relay knows of a job it read for its message: whether it was cancelled, and its errors. */
export interface ReadForMessage {
  state: string;
  error: { name: string; message: string } | null;
  lastError: { name: string; message: string } | null;
}

/**
 * The `jobs:events` message a stream entry makes, or null for an entry that tells no
 * lifecycle change. `delayedRetry`: a `delayed` entry is an attempt's retry (delayed-entries.ts);
 * `foreign`: jobs of other producers to announce, by the state they were submitted in;
 * `view`: the job read for it (a failure, removal or retry), when it was.
 */
export function messageOf(
  e: StreamEntry,
  delayedRetry: boolean,
  foreign: ReadonlyMap<string, string>,
  view: ReadForMessage | null | undefined,
): JobEvent | null {
  const base = { id: e.jobId!, type: e.type, at: entryTime(e.id) };
  if (e.event === 'added') {
    const state = foreign.get(e.jobId!);
    return state ? { ...base, event: 'submitted', state: state as JobEvent['state'] } : null;
  }
  const change = lifecycleOf(e, delayedRetry);
  if (!change) return null;
  if (e.event === 'progress') return progressMessage(e);
  const message: JobEvent = { ...base, ...change };
  if (change.event === 'retrying' && view?.lastError) message.error = view.lastError;
  if (e.event === 'failed' || e.event === 'removed') {
    if (view?.state === 'cancelled') {
      message.event = 'cancelled';
      message.state = 'cancelled';
    }
    const error = view?.error ?? (e.fields.failedReason ? { name: 'Error', message: e.fields.failedReason } : undefined);
    if (error) message.error = error;
  }
  return message;
}

/** The message of a `progress` entry: the same on `jobs:events` and on a job's event stream. */
export function progressMessage(e: StreamEntry): JobEvent {
  return { id: e.jobId!, type: e.type, at: entryTime(e.id), event: 'progress', state: 'active', progress: parseJson(e.fields.data) };
}

/** A progress entry's data. Text another writer stored that is not JSON is passed on as it is rather than dropped. */
function parseJson(raw: string | undefined): unknown {
  try {
    return raw === undefined ? null : JSON.parse(raw);
  } catch {
    return raw;
  }
}
