import { HttpError, plainErrors, SCHEDULE_NAME, scheduleTimingSchema, type Config, type ScheduleOptions } from '@async-jobs/shared';
import type { JobsOptions, RepeatOptions } from 'bullmq';
import { issuesToDetails, validationFailed, type ProblemDetail } from '../middleware/validate';
import { checkSubmission, isPlainObject } from '../jobs/validate-submission';

/** A PUT /schedules/:name body that passed every check: what BullMQ's job scheduler is given. */
export interface ScheduleRequest {
  name: string;
  type: string;
  /** Every run's `job.data`: the data as sent (docs/wire-format.md). */
  data: unknown;
  options: ScheduleOptions;
  repeat: RepeatOptions;
}

/** Submit options a schedule does not take, and why (the run's timing is the schedule's). */
const NOT_FOR_SCHEDULES: Record<string, string> = {
  delay: 'options.delay does not apply to a schedule: its runs come when cron or every says (startAt delays the first)',
  idempotencyKey: 'options.idempotencyKey does not apply to a schedule: PUT of the same name already replaces it',
  callbackUrl: 'options.callbackUrl is not supported for schedules: follow the runs with GET /jobs?type= or jobs:events',
};

/**
 * Checks a PUT /schedules/:name in full before anything is written: the name, the
 * timing (scheduleTimingSchema), and `type`, `data` and `options` exactly as POST /jobs
 * checks them (the type's own schema for `data`). Throws 400 with every problem found.
 */
export function checkSchedule(name: string, body: unknown, config: Config): ScheduleRequest {
  const details: ProblemDetail[] = [];
  if (!SCHEDULE_NAME.test(name)) {
    details.push({ path: 'name', message: 'name (in the path) must be 1 to 100 letters, digits, "_", "." or "-"' });
  }
  const timing = scheduleTimingSchema.safeParse(body, { error: plainErrors() });
  if (!timing.success) details.push(...issuesToDetails(timing.error));
  const isObject = isPlainObject(body);
  const { type, data, options } = isObject ? body : {};
  for (const [option, why] of Object.entries(NOT_FOR_SCHEDULES)) {
    if (typeof options === 'object' && options !== null && option in options) details.push({ path: `options.${option}`, message: why });
  }
  const job = isObject ? checkSubmission({ type, data, ...(options === undefined ? {} : { options }) }, [], config) : null;
  if (job && !job.ok) {
    if (job.error.code === 'unknown_type' && details.length === 0) throw job.error;
    details.push(...job.details.filter((d) => !NOT_FOR_SCHEDULES[d.path.replace(/^options\./, '')]));
  }
  if (details.length > 0 || !job?.ok || !timing.success)
    throw validationFailed(details.length > 0 ? details : [{ path: '(root)', message: 'the body must be an object' }]);
  const t = timing.data;
  const repeat: RepeatOptions = t.cron !== undefined ? { pattern: t.cron, tz: t.tz ?? 'UTC' } : { every: t.every };
  if (t.startAt !== undefined) repeat.startDate = Date.parse(t.startAt);
  if (t.endAt !== undefined) repeat.endDate = Date.parse(t.endAt);
  if (t.limit !== undefined) repeat.limit = t.limit;
  const { delay: _d, idempotencyKey: _k, callbackUrl: _c, ...runOptions } = job.value.options;
  return { name, type: job.value.type, data: job.value.data, options: runOptions, repeat };
}

/**
 * The options every run carries, as a submitted job's (docs/wire-format.md, job-build.ts):
 * BullMQ's own and ours in `asyncJobs`; retention is the worker's, as for any job.
 */
export function runOptionsOf(options: ScheduleOptions): JobsOptions {
  return {
    attempts: options.attempts,
    backoff: options.backoff,
    ...(options.priority === undefined ? {} : { priority: options.priority }),
    ...(options.timeout === undefined ? {} : { asyncJobs: { timeoutMs: options.timeout } }),
  } as JobsOptions;
}

export const scheduleConflict = (name: string) => new HttpError(409, 'conflict', `another request is changing schedule "${name}" right now; retry`);
