import { JOB_LOG_LINES, retention, type AsyncJobsOptions, type Config, type JobRecord, type Keyspace } from '@async-jobs/shared';
import type { JobsOptions } from 'bullmq';
import type { ChainableCommander } from 'ioredis';
import type { Submission } from './validate-submission';

/*
 * What one submission becomes (docs/wire-format.md): a plain BullMQ job whose data is the
 * submitted data, with BullMQ's own options, plus the small tombstone of ours beside it.
 * Shared by POST /jobs and POST /jobs/batch so the two cannot drift.
 */

export function bullOptionsOf(s: Submission, id: string, config: Config): JobsOptions & { asyncJobs?: AsyncJobsOptions } {
  const o = s.options;
  const extra: AsyncJobsOptions = {};
  if (o.timeout !== undefined) extra.timeoutMs = o.timeout;
  if (o.callbackUrl !== undefined) extra.callbackUrl = o.callbackUrl;
  return {
    jobId: id,
    attempts: o.attempts,
    backoff: o.backoff,
    delay: o.delay,
    priority: o.priority,
    ...retention(config.RESULT_TTL_SECONDS),
    // Any worker's job.log (ours or another BullMQ worker's) keeps the newest lines only.
    keepLogs: JOB_LOG_LINES,
    ...(Object.keys(extra).length > 0 ? { asyncJobs: extra } : {}),
  };
}

/** Seconds a tombstone lives: past the job's earliest possible end, its retention, then TOMBSTONE_TTL_SECONDS. */
const tombstoneTtl = (s: Submission, config: Config) =>
  Math.ceil((s.options.delay ?? 0) / 1000) + config.RESULT_TTL_SECONDS + config.TOMBSTONE_TTL_SECONDS;

/** The writes of ours that go with a submitted job, into the submit's own transaction. */
export function tombstoneWrites(tx: ChainableCommander, keys: Keyspace, config: Config, s: Submission, id: string, timestamp: number): void {
  const key = keys.tombstone(s.type, id);
  const fields: Record<string, string> = { s: String(timestamp), m: String(s.options.attempts) };
  if (s.options.delay) fields.d = String(s.options.delay);
  const ttl = tombstoneTtl(s, config);
  if (s.options.callbackUrl) {
    fields.u = s.options.callbackUrl;
    fields.cb = JSON.stringify({ state: 'pending', attempts: 0, lastStatus: null });
    tx.zadd(keys.callbacksDue, timestamp + ttl * 1000, id);
    // Entries live as long as the tombstone that holds their URL; the stale ones go as new ones come.
    tx.zremrangebyscore(keys.callbacksDue, '-inf', Date.now());
  }
  tx.hset(key, fields);
  tx.expire(key, ttl);
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
