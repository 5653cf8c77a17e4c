import { asyncJobsOf, isoTime, type ScheduleOptions, type ScheduleResource } from '@async-jobs/shared';
import type { FoundSchedule } from './find-schedule';
import type { Runs } from './recent-runs';

/** The options of every run, read back from the scheduler's template (BullMQ's record, not a copy of the request). */
function optionsOf(opts: Record<string, unknown> | undefined): Partial<ScheduleOptions> {
  const o = opts ?? {};
  const { timeoutMs } = asyncJobsOf(o);
  return {
    ...(typeof o.attempts === 'number' ? { attempts: o.attempts } : {}),
    ...(o.backoff !== undefined ? { backoff: o.backoff as ScheduleOptions['backoff'] } : {}),
    ...(typeof o.priority === 'number' && o.priority > 0 ? { priority: o.priority } : {}),
    ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
  };
}

/** The schedule resource (docs/http-api.md, "Schedules") of a job scheduler BullMQ holds. */
export function scheduleView({ type, scheduler: s }: FoundSchedule, runs: Runs): ScheduleResource {
  return {
    name: s.key,
    type,
    // BullMQ leaves `{}` out of the template; a run gets `{}` then.
    data: s.template?.data ?? {},
    options: optionsOf(s.template?.opts as Record<string, unknown> | undefined),
    ...(s.pattern ? { cron: s.pattern } : { every: s.every }),
    tz: s.pattern ? (s.tz ?? 'UTC') : null,
    startAt: isoTime(s.startDate),
    endAt: isoTime(s.endDate),
    limit: s.limit ?? null,
    nextRunAt: runs.nextRunAt === null ? null : isoTime(runs.nextRunAt),
    recentJobs: runs.recent,
    links: { self: `/schedules/${encodeURIComponent(s.key)}` },
  };
}
