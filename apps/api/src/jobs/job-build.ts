import { bullRetention, type JobPayload, type JobRecord, type RecordWrite } from '@async-jobs/shared';
import type { JobsOptions } from 'bullmq';
import type { Submission } from './validate-submission';

/*
 * What one submission becomes: the BullMQ job (data and options) and its first
 * record write. Shared by POST /jobs and POST /jobs/batch so the two cannot drift.
 */

/** The BullMQ job data: the validated input plus what the worker must know. */
export function payloadOf(s: Submission): JobPayload {
  const payload: JobPayload = { input: s.input };
  if (s.options.timeout !== undefined) payload.timeout = s.options.timeout;
  if (s.options.callbackUrl !== undefined) payload.callbackUrl = s.options.callbackUrl;
  return payload;
}

export function bullOptionsOf(s: Submission, id: string): JobsOptions {
  const o = s.options;
  return { jobId: id, attempts: o.attempts, backoff: o.backoff, delay: o.delay, priority: o.priority, ...bullRetention };
}

/** The "submitted" write: `queued`, or `delayed` when a delay was asked for. */
export function submittedWrite(id: string, s: Submission, at: Date): RecordWrite {
  return {
    id,
    type: s.type,
    state: s.options.delay ? 'delayed' : 'queued',
    attempt: 1,
    fields: {
      progress: 0,
      attempts: { made: 0, max: s.options.attempts },
      submittedAt: at.toISOString(),
      ...(s.options.callbackUrl ? { callback: { state: 'pending', attempts: 0, lastStatus: null } as const } : {}),
    },
    event: { event: 'submitted' },
  };
}

/** The record a write creates, for answering without reading it back. */
export function recordOf(w: RecordWrite): JobRecord {
  return {
    id: w.id,
    type: w.type,
    state: w.state,
    progress: 0,
    attempts: { made: 0, max: 1 },
    submittedAt: null,
    startedAt: null,
    finishedAt: null,
    result: null,
    error: null,
    lastError: null,
    ...w.fields,
  };
}
