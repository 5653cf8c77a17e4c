import type { ErrorInfo, RecordWrite } from '@async-jobs/shared';

/**
 * The record writes of one attempt. `attempts.made` counts attempts started,
 * including the current one (1 while the first runs, and still 1 while the job
 * waits for its second); BullMQ's `attemptsMade` counts finished ones, hence the
 * +1 in `attempt`. A run that restarts after its worker died (stall recovery) is
 * the same attempt again: BullMQ does not count it against `attempts` either.
 */
export interface AttemptInfo {
  id: string;
  type: string;
  attempt: number;
  max: number;
  submittedAt: string;
}

const base = (a: AttemptInfo) => ({ id: a.id, type: a.type });
const attempts = (a: AttemptInfo) => ({ made: a.attempt, max: a.max });
const now = () => new Date().toISOString();

export function activeWrite(a: AttemptInfo, startedAt: string): RecordWrite {
  return {
    ...base(a),
    state: 'active',
    attempt: a.attempt,
    // A new attempt starts from scratch, so does its progress.
    fields: { attempts: attempts(a), submittedAt: a.submittedAt, startedAt, progress: 0 },
    event: { event: 'active', attempt: a.attempt },
  };
}

export function completedWrite(a: AttemptInfo, result: unknown): RecordWrite {
  return {
    ...base(a),
    state: 'completed',
    attempt: a.attempt,
    fields: { attempts: attempts(a), submittedAt: a.submittedAt, result, finishedAt: now() },
    event: { event: 'completed', attempt: a.attempt },
  };
}

/** Another attempt follows: the write (and its event) belongs to that next attempt. */
export function retryingWrite(a: AttemptInfo, error: ErrorInfo, delayed: boolean): RecordWrite {
  return {
    ...base(a),
    state: delayed ? 'delayed' : 'queued',
    attempt: a.attempt + 1,
    fields: { attempts: attempts(a), submittedAt: a.submittedAt, lastError: error },
    event: { event: 'retrying', attempt: a.attempt + 1, error },
  };
}

export function failedWrite(a: AttemptInfo, error: ErrorInfo): RecordWrite {
  return {
    ...base(a),
    state: 'failed',
    attempt: a.attempt,
    fields: { attempts: attempts(a), submittedAt: a.submittedAt, error, lastError: error, finishedAt: now() },
    event: { event: 'failed', attempt: a.attempt, error },
  };
}

export function cancelledWrite(a: AttemptInfo): RecordWrite {
  return {
    ...base(a),
    state: 'cancelled',
    attempt: a.attempt,
    fields: { attempts: attempts(a), submittedAt: a.submittedAt, finishedAt: now() },
    event: { event: 'cancelled', attempt: a.attempt },
  };
}
