import type { AsyncJobsOptions, Config, JobRecord } from '@async-jobs/shared';
import type { JobsOptions } from 'bullmq';
import type { Submission } from './validate-submission';

/*
 * What one submission becomes (docs/wire-format.md): a plain BullMQ job whose data is the
 * submitted data, with BullMQ's own options, plus the small tombstone of ours beside it.
 * Shared by POST /jobs and POST /jobs/batch so the two cannot drift.
 */

/**
 * BullMQ's options of a job. The id is not among them (it goes to BullMQ beside them): every
 * byte here is kept in each job's hash for as long as the job is, and the hash is stored far
 * more compactly while each of its values is at most 64 bytes (Redis's hash-max-listpack-value).
 * So retention and the log bound are not here either: our workers apply both (worker-options.ts,
 * job-context.ts), and docs/wire-format.md asks the same of any other worker.
 */
export function bullOptionsOf(s: Submission): JobsOptions & { asyncJobs?: AsyncJobsOptions } {
  const o = s.options;
  const extra: AsyncJobsOptions = {};
  if (o.timeout !== undefined) extra.timeoutMs = o.timeout;
  if (o.callbackUrl !== undefined) extra.callbackUrl = o.callbackUrl;
  return {
    attempts: o.attempts,
    backoff: o.backoff,
    delay: o.delay,
    priority: o.priority,
    ...(Object.keys(extra).length > 0 ? { asyncJobs: extra } : {}),
  };
}

/** Seconds a tombstone lives: past the job's earliest possible end, its retention, then TOMBSTONE_TTL_SECONDS. */
export const tombstoneTtl = (s: Submission, config: Config) =>
  Math.ceil((s.options.delay ?? 0) / 1000) + config.RESULT_TTL_SECONDS + config.TOMBSTONE_TTL_SECONDS;

/** The fields of a job's tombstone (job-view.ts reads them): submit time, max attempts, delay, callback URL and state. */
export function tombstoneFields(s: Submission, timestamp: number): string[] {
  const fields = ['s', String(timestamp), 'm', String(s.options.attempts)];
  if (s.options.delay) fields.push('d', String(s.options.delay));
  if (s.options.callbackUrl) fields.push('u', s.options.callbackUrl, 'cb', JSON.stringify({ state: 'pending', attempts: 0, lastStatus: null }));
  return fields;
}

/** The resource of a job just submitted, for answering without reading it back. */
export function submittedView(id: string, s: Submission, timestamp: number): JobRecord {
  const record: JobRecord = {
    id,
    type: s.type,
    state: s.options.delay ? 'delayed' : 'queued',
    progress: 0,
    attempts: { made: 0, max: s.options.attempts },
    submittedAt: new Date(timestamp).toISOString(),
    startedAt: null,
    finishedAt: null,
    result: null,
    error: null,
    lastError: null,
  };
  if (s.options.callbackUrl) record.callback = { state: 'pending', attempts: 0, lastStatus: null };
  return record;
}
