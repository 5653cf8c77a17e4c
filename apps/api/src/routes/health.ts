import { HttpError } from '@async-jobs/shared';
import type { Request, Response } from 'express';
import type { AppContext } from '../deps';

export const healthRoutes = (ctx: AppContext) => ({
  /** The process is up; deliberately no Redis call. */
  health(_req: Request, res: Response) {
    res.json({ status: 'ok' });
  },

  async ready(_req: Request, res: Response) {
    const notReady = () => new HttpError(503, 'unavailable', 'Redis does not answer', undefined, { 'Retry-After': '1' });
    // Both must be up: BullMQ's queues use one; submits, reads and the relay use `redis`.
    if (ctx.redis.status !== 'ready' || ctx.queueRedis.status !== 'ready') throw notReady();
    await ctx.redis.ping().catch(() => {
      throw notReady();
    });
    res.json({ status: 'ready' });
  },
});
