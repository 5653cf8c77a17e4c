import { assertRedisReady, HttpError } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { findSchedule, scheduleQueueOf, type FoundSchedule } from './find-schedule';
import { withScheduleLock } from './name-lock';
import { runOptionsOf, type ScheduleRequest } from './validate-schedule';

/** BullMQ's codes for a scheduler whose next run's id is taken (finished-errors.ts). */
const SLOT_TAKEN = new Set([-10, -11]);

/**
 * Creates or replaces the job scheduler `s.name` in the queue of `s.type` (BullMQ's
 * upsert removes the pending run of the old template and adds one of the new).
 * A name that is in another type's queue is removed there first, so a failure in
 * between leaves no schedule of that name rather than two: runs are never doubled.
 * Returns whether it was created, and the scheduler as BullMQ now holds it.
 */
export async function putSchedule(ctx: AppContext, s: ScheduleRequest): Promise<{ created: boolean; found: FoundSchedule }> {
  const queue = scheduleQueueOf(ctx, s.type);
  // The queues too: a queue waits for Redis rather than fail, and would hold the name's lock meanwhile.
  assertRedisReady(ctx.redis, ctx.queueRedis);
  return withScheduleLock(ctx, s.name, async () => {
    const before = await findSchedule(ctx, s.name);
    for (const other of before) if (other.type !== s.type) await other.queue.removeJobScheduler(s.name);
    try {
      await queue.upsertJobScheduler(s.name, s.repeat, { name: s.type, data: s.data, opts: runOptionsOf(s.options) });
    } catch (err) {
      if (!SLOT_TAKEN.has((err as { code?: number }).code ?? 0)) throw err;
      throw new HttpError(409, 'conflict', `schedule "${s.name}": its next run's time slot already holds a run; retry in a moment`);
    }
    const scheduler = await queue.getJobScheduler(s.name);
    if (!scheduler) throw new HttpError(409, 'conflict', `schedule "${s.name}" has no run left to make (its endAt or limit is reached)`);
    return { created: before.length === 0, found: { type: s.type, queue, scheduler } };
  });
}
