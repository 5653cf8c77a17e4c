import { HttpError } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import type { HttpReply } from '../route-handler';

export const healthRoutes = (ctx: AppContext) => ({
  /** The process is up; deliberately no Redis call. */
  health(): HttpReply {
    return { body: { status: 'ok' } };
  },

  async ready(): Promise<HttpReply> {
    const notReady = () => new HttpError(503, 'unavailable', 'Redis does not answer', undefined, { 'Retry-After': '1' });
    // Both must be up: BullMQ's queues use one; submits, reads and the relay use `redis`.
    if (ctx.redis.status !== 'ready' || ctx.queueRedis.status !== 'ready') throw notReady();
    await ctx.redis.ping().catch(() => {
      throw notReady();
    });
    return { body: { status: 'ready' } };
  },
});
