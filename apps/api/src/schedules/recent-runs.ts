import { execRouted, type RoutedCommand } from '@async-jobs/shared';
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
  /** When the next run is due (BullMQ's scheduler record), or null once no run will come. */
  nextRunAt: number | null;
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

/** What the run at the scheduler's `next` slot says, read in the same round trip as the others. */
interface NextRun {
  /** When a worker took it (`processedOn`); null while it waits. */
  takenAt: number | null;
  /** Its iteration, counted from the PUT that made the scheduler (BullMQ's `opts.repeat.count`), when known. */
  count: number | undefined;
}

function countOf(opts: string | null): number | undefined {
  try {
    const count = (JSON.parse(opts ?? '{}') as { repeat?: { count?: unknown } }).repeat?.count;
    return typeof count === 'number' ? count : undefined;
  } catch {
    return undefined;
  }
}

/** Whether BullMQ's cron strategy finds a time for `pattern` after `from` (and startAt) and not past endAt. */
function cronFiresAgain(s: JobSchedulerJson, from: number): boolean {
  try {
    const currentDate = new Date(Math.max(from, s.startDate ?? 0));
    CronExpressionParser.parse(s.pattern!, { currentDate, tz: s.tz, endDate: new Date(s.endDate!) }).next();
    return true;
  } catch {
    return false;
  }
}

/**
 * When the scheduler's next run is due: the slot BullMQ's scheduler record holds (`next`, the
 * score of its repeat set), not whether a pending run was found there. BullMQ makes each run
 * ahead of time and moves `next` on only after a worker has taken the run at `next`, in a
 * call of that worker's own (JobScheduler.upsertJobScheduler, after moveToActive): a run at
 * `next` found taken is mostly a worker about to make the one after it, and `next` stands
 * until then. None comes only when that call refuses, as BullMQ decides it: the taken run was
 * the `limit`-th since the PUT (its `opts.repeat.count`), or it was taken after `endAt`, or a
 * cron has no time left before `endAt`. A run at `next` that BullMQ no longer holds (removed
 * by an operator, or expired long after the last run) will not be taken, so none comes after it.
 */
function nextRunOf(s: JobSchedulerJson, run: NextRun | null): number | null {
  const next = s.next;
  if (next === undefined || next === null || run === null) return null;
  if (run.takenAt === null) return next;
  const count = run.count ?? s.iterationCount ?? 0;
  if (s.limit !== undefined && count >= s.limit) return null;
  if (s.endDate !== undefined && run.takenAt > s.endDate) return null;
  if (s.pattern && s.endDate !== undefined && !cronFiresAgain(s, Math.max(run.takenAt, next))) return null;
  return next;
}

/** The recent runs of each schedule, in one round trip for all of them. */
export async function runsOf(ctx: AppContext, schedules: readonly FoundSchedule[]): Promise<Runs[]> {
  const slots = schedules.map((f) => slotsOf(f.scheduler));
  // Routed: on a Cluster the schedules of different queue groups live on different slots (and nodes).
  const reads: RoutedCommand[] = [];
  schedules.forEach((f, i) => {
    slots[i].forEach((ms, k) => {
      const key = ctx.keys.job(f.type, runId(f.scheduler.key, ms));
      reads.push({ key, queue: (pipe) => (k === 0 ? pipe.hmget(key, 'timestamp', 'processedOn', 'opts') : pipe.hmget(key, 'timestamp', 'processedOn')) });
    });
  });
  const replies = await execRouted(ctx.redis, reads);
  let r = 0;
  return schedules.map((f, i) => {
    const recent: string[] = [];
    let next: NextRun | null = null;
    slots[i].forEach((ms, k) => {
      const [err, fields] = replies[r++] as [Error | null, (string | null)[]];
      if (err) throw err;
      if (fields[0] === null) return;
      if (k === 0) next = { takenAt: fields[1] === null ? null : Number(fields[1]), count: countOf(fields[2]) };
      if (recent.length < RECENT_RUNS) recent.push(runId(f.scheduler.key, ms));
    });
    return { recent, nextRunAt: nextRunOf(f.scheduler, next) };
  });
}
