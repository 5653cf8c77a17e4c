import { encodeControl, HttpError, isTerminal, toJobResource } from '@async-jobs/shared';
import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import { assertRedisReady } from '../middleware/redis-errors';
import { loadRecord } from './jobs';

const conflict = (state: string) => new HttpError(409, 'conflict', `the job is already ${state}`);
/** BullMQ's ErrorCode.JobBelongsToJobScheduler. */
const JOB_BELONGS_TO_SCHEDULER = -8;
const scheduledRun = (name: string) =>
  new HttpError(409, 'conflict', `the job is the next run of schedule "${name}": DELETE /schedules/${name} (or PUT it anew) to drop it`);

/**
 * DELETE /jobs/:id. A job that has not started (queued, delayed, waiting for children) is
 * marked cancelled in its tombstone and removed from BullMQ: 200, it never runs, and it
 * reads `cancelled` from then on. A job a worker holds (BullMQ refuses to remove it) is
 * cancelled on whichever worker that is, over the control channel: 202, and it ends
 * `cancelled` (BullMQ: failed with CancelledError, not retried) unless it finishes first.
 * Both end in BullMQ's event stream, from which waiters, jobs:events and callbacks follow.
 */
export const jobCancelRoute = (ctx: AppContext) =>
  async function cancel(req: Request, res: Response) {
    const id = String(req.params.id);
    const record = await loadRecord(ctx, id);
    if (isTerminal(record.state)) throw conflict(record.state);
    assertRedisReady(ctx.redis);
    const queue = ctx.queues.get(ctx.keys.queueOf(record.type, id));
    const tomb = ctx.keys.tombstone(record.type, id);
    if (record.state !== 'active' && queue) {
      // Marked first, so that whoever the removal wakes reads "cancelled by request", not "removed by an operator".
      // A job another producer added has no tombstone yet: it gets one that expires like ours.
      const ttl = ctx.config.RESULT_TTL_SECONDS + ctx.config.TOMBSTONE_TTL_SECONDS;
      const [[, created]] = ((await ctx.redis.multi().hset(tomb, 'x', String(Date.now())).expire(tomb, ttl, 'NX').exec()) ?? [[null, 0]]) as [unknown, number][];
      const marked = created === 1;
      const removed = await queue.remove(id).catch(async (err: { code?: number }) => {
        if (marked) await ctx.redis.hdel(tomb, 'x');
        // BullMQ keeps a schedule's pending run for its scheduler: it goes with the schedule.
        if (err.code === JOB_BELONGS_TO_SCHEDULER && record.schedule) throw scheduledRun(record.schedule);
        throw err;
      });
      if (removed === 1) {
        res.status(200).json(toJobResource(await loadRecord(ctx, id, record.type)));
        return;
      }
      // A worker took it meanwhile: cancel it where it runs instead.
      if (marked) await ctx.redis.hdel(tomb, 'x');
    }
    await ctx.redis.publish(ctx.keys.controlChannel, encodeControl({ action: 'cancel', id, type: record.type }));
    res.status(202).json(toJobResource(await loadRecord(ctx, id, record.type)));
  };
