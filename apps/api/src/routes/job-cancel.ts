import { assertRedisReady, encodeControl, HttpError, isTerminal, toJobResource } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import { noteCancelRequested } from '../jobs/cancel-request';
import { cancelUnstarted } from '../jobs/cancel-unstarted';
import type { RouteHandler } from '../route-handler';
import { loadRecord } from './jobs';

const conflict = (state: string) => new HttpError(409, 'conflict', `the job is already ${state}`);
const scheduledRun = (name: string) =>
  new HttpError(409, 'conflict', `the job is the next run of schedule "${name}": DELETE /schedules/${name} (or PUT it anew) to drop it`);

/**
 * DELETE /jobs/:id. A job that has not started (queued, delayed, waiting for children) is
 * marked cancelled in its tombstone and removed from BullMQ, with its children that have
 * not started either, in one script (cancel-unstarted.lua): 200, it never runs, and it
 * reads `cancelled` from then on. A job a worker holds, even one taken since the state
 * was read, is cancelled on whichever worker that is, over the control channel: 202, and
 * it ends `cancelled` (BullMQ: failed with CancelledError, not retried) unless it finishes
 * first; one whose attempt failed meanwhile and waits for its retry is removed like an
 * unstarted one (200), and so is one whose worker missed the message and whose attempt
 * fails later (the relay, at the retry). One that finished meanwhile is 409, as if it had
 * been read finished.
 * Both end in BullMQ's event stream, from which waiters, jobs:events and callbacks follow.
 */
export const jobCancelRoute =
  (ctx: AppContext): RouteHandler =>
  async (req) => {
    const id = String(req.params.id);
    const record = await loadRecord(ctx, id);
    if (isTerminal(record.state)) throw conflict(record.state);
    assertRedisReady(ctx.redis);
    const ours = ctx.queues.has(ctx.keys.queueOf(record.type, id));
    const cancelled = async () => ({ body: toJobResource(await loadRecord(ctx, id, record.type)) });
    if (record.state !== 'active' && ours) {
      const outcome = await cancelUnstarted(ctx, record.type, id);
      if (outcome === 'removed') return cancelled();
      if (outcome === 'finished' || outcome === 'gone') throw conflict((await loadRecord(ctx, id, record.type)).state);
      // BullMQ keeps a schedule's pending run for its scheduler: it goes with the schedule.
      if (outcome === 'scheduled') throw scheduledRun(record.schedule ?? 'its scheduler');
      // 'running': a worker took it meanwhile; cancel it where it runs instead.
    }
    // Noted first: a worker that is not listening right now (reconnecting) misses the message, and
    // should its attempt then fail, the relay cancels the job before the retry (cancel-request.ts).
    await noteCancelRequested(ctx, record.type, id);
    await ctx.redis.publish(ctx.keys.controlChannel, encodeControl({ action: 'cancel', id, type: record.type }));
    // An attempt that failed since the read is back in BullMQ's delayed or waiting set for its
    // retry, held by no worker, and the message finds nobody to stop: it is cancelled here
    // instead, for good. Asked after the message, so that an attempt ending while it travels
    // is caught by one or the other.
    const again = ours ? await cancelUnstarted(ctx, record.type, id) : undefined;
    if (again === 'removed') return cancelled();
    const now = await loadRecord(ctx, id, record.type);
    // Gone and cancelled: the relay removed it first, at a retry it saw (cancel-request.ts), as this would have: 200.
    return { status: again === 'gone' && now.state === 'cancelled' ? 200 : 202, body: toJobResource(now) };
  };
