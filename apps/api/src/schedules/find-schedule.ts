import type { JobQueue } from '@async-jobs/shared';
import type { JobSchedulerJson } from 'bullmq';
import type { AppContext } from '../deps';

/** A schedule as BullMQ holds it: a job scheduler in the queue of its type. */
export interface FoundSchedule {
  type: string;
  queue: JobQueue;
  scheduler: JobSchedulerJson;
}

/**
 * Every queue that holds a job scheduler of this name, in the order of the types. A name
 * is in one queue at most while only the API writes schedulers (PUT moves it under a
 * lock, put-schedule.ts); another BullMQ producer could add a second, which shows here.
 */
export async function findSchedule(ctx: AppContext, name: string): Promise<FoundSchedule[]> {
  const found = await Promise.all(
    [...ctx.queues].map(async ([type, queue]) => {
      const scheduler = await queue.getJobScheduler(name);
      return scheduler ? { type, queue, scheduler } : null;
    }),
  );
  return found.filter((f) => f !== null);
}

/** Every schedule of every type, by name. */
export async function listSchedules(ctx: AppContext): Promise<FoundSchedule[]> {
  const perType = await Promise.all(
    [...ctx.queues].map(async ([type, queue]) => (await queue.getJobSchedulers()).map((scheduler) => ({ type, queue, scheduler }))),
  );
  return perType.flat().sort((a, b) => (a.scheduler.key < b.scheduler.key ? -1 : a.scheduler.key > b.scheduler.key ? 1 : 0));
}
