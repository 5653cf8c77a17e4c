import type { JobSchedulerJson } from 'bullmq';
import { CronExpressionParser } from 'cron-parser';
import type { AppContext } from '../deps';
import type { FoundSchedule } from './find-schedule';

/** How many run ids a schedule shows in `recentJobs`. */
export const RECENT_RUNS = 5;
/** How many of a schedule's past slots are looked at for them (runs a stopped worker skipped leave gaps). */
const LOOK_BACK = 32;

export interface Runs {
  /** Ids of the newest runs BullMQ holds, newest first, the pending next run included. */
  recent: string[];
  /** Whether the run at the scheduler's next slot exists and has not started. */
  nextPending: boolean;
}

/** BullMQ's id of the run of scheduler `name` at slot `ms` (JobScheduler.getSchedulerNextJobId). */
export const runId = (name: string, ms: number) => `repeat:${name}:${ms}`;

/**
 * The slots of the scheduler's runs, newest first: its next one, then those before it.
 * BullMQ names each run by its slot, and the slots follow from the schedule itself: an
 * `every` scheduler's lie on one grid (next − k·every), a cron scheduler's are the
 * pattern's times. So the runs are found in BullMQ's own records, with no list of ours.
 */
function slotsOf(s: JobSchedulerJson): number[] {
  const next = s.next;
  if (next === undefined || next === null) return [];
  const slots = [next];
  if (s.every) {
    for (let k = 1; k < LOOK_BACK && next - k * s.every > 0; k++) slots.push(next - k * s.every);
  } else if (s.pattern) {
    try {
      const times = CronExpressionParser.parse(s.pattern, { currentDate: new Date(next), tz: s.tz });
      for (let k = 1; k < LOOK_BACK; k++) slots.push(times.prev().getTime());
    } catch {
      // A pattern BullMQ's parser cannot step back through: the next run alone.
    }
  }
  return slots;
}

/** The recent runs of each schedule, in one round trip for all of them. */
export async function runsOf(ctx: AppContext, schedules: readonly FoundSchedule[]): Promise<Runs[]> {
  const slots = schedules.map((f) => slotsOf(f.scheduler));
  const pipe = ctx.redis.pipeline();
  schedules.forEach((f, i) => {
    for (const ms of slots[i]) pipe.hmget(ctx.keys.job(f.type, runId(f.scheduler.key, ms)), 'timestamp', 'processedOn');
  });
  const replies = slots.some((s) => s.length > 0) ? ((await pipe.exec()) ?? []) : [];
  let r = 0;
  return schedules.map((f, i) => {
    const recent: string[] = [];
    let nextPending = false;
    slots[i].forEach((ms, k) => {
      const [err, fields] = replies[r++] as [Error | null, (string | null)[]];
      if (err) throw err;
      if (fields[0] === null) return;
      if (k === 0) nextPending = fields[1] === null;
      if (recent.length < RECENT_RUNS) recent.push(runId(f.scheduler.key, ms));
    });
    return { recent, nextPending };
  });
}
