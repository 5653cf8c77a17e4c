import { encodeControl, enqueueCallback, HttpError, isTerminal, toJobResource } from '@async-jobs/shared';
import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import { assertRedisReady } from '../middleware/redis-errors';
import { loadRecord } from './jobs';

/** How long a pending cancel is remembered; an attempt that starts meanwhile is refused. */
const CANCEL_FLAG_TTL_SECONDS = 86400;
/** A cancel outranks every attempt: the store orders writes by attempt, and terminal records are final. */
const CANCEL_ATTEMPT = 1_000_000;

const conflict = (state: string) => new HttpError(409, 'conflict', `the job is already ${state}`);

/**
 * DELETE /jobs/:id. The cancel flag goes first, so from then on no attempt can start
 * or report. A job BullMQ can remove (waiting, delayed) is removed and recorded
 * cancelled: 200, it never runs. A job a worker holds (active) is cancelled on
 * whichever worker that is, over the control channel: 202, and it ends cancelled
 * without retry unless it finishes first.
 */
export const jobCancelRoute = (ctx: AppContext) =>
  async function cancel(req: Request, res: Response) {
    const id = String(req.params.id);
    const record = await loadRecord(ctx, id);
    if (isTerminal(record.state)) throw conflict(record.state);
    assertRedisReady(ctx.redis);
    await ctx.redis.set(ctx.keys.cancelFlag(id), '1', 'EX', CANCEL_FLAG_TTL_SECONDS);
    const queue = ctx.queues.get(record.type);
    // Read before removing: the callback URL travels only in the BullMQ job.
    const callbackUrl = (await queue?.getJob(id))?.data.callbackUrl;
    const removed = queue ? (await queue.remove(id)) === 1 : true;
    if (removed) {
      await ctx.store.apply({
        id,
        type: record.type,
        state: 'cancelled',
        attempt: CANCEL_ATTEMPT,
        fields: { finishedAt: new Date().toISOString() },
        event: { event: 'cancelled' },
      });
      const now = (await ctx.store.read(id)) ?? record;
      // It ended on its own between our read and the removal.
      if (now.state !== 'cancelled') throw conflict(now.state);
      if (callbackUrl) await enqueueCallback(ctx.callbackQueue, ctx.config, id, callbackUrl, 'cancelled');
      res.status(200).json(toJobResource(now));
      return;
    }
    await ctx.redis.publish(ctx.keys.controlChannel, encodeControl({ action: 'cancel', id, type: record.type }));
    res.status(202).json(toJobResource((await ctx.store.read(id)) ?? record));
  };
