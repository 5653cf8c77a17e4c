import { randomInt } from 'node:crypto';
import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import { assertRedisReady } from '../middleware/redis-errors';

/**
 * The two Redis queues of the seed article, kept as they were: a click pushes or
 * publishes one random digit and the browser is sent back to the index page.
 * 303 (not 302) so that a POST from a form comes back as a GET.
 */
export const seedRoutes = (ctx: AppContext) => ({
  /** Producer-consumer: one element on the list, taken by exactly one listener (BLPOP). */
  async prodcons(_req: Request, res: Response) {
    assertRedisReady(ctx.redis);
    const elem = randomInt(10);
    const length = await ctx.redis.lpush(ctx.keys.prodconsList, elem);
    ctx.logger.info({ list: ctx.keys.prodconsList, elem, length }, `lpush ${ctx.keys.prodconsList} -- ${elem}`);
    res.redirect(303, '/');
  },

  /** Publish-subscribe: one message, seen by every listener subscribed right now (and lost if none is). */
  async pubsub(_req: Request, res: Response) {
    assertRedisReady(ctx.redis);
    const elem = randomInt(10);
    const receivers = await ctx.redis.publish(ctx.keys.pubsubChannel, String(elem));
    ctx.logger.info({ channel: ctx.keys.pubsubChannel, elem, receivers }, `publish ${ctx.keys.pubsubChannel} -- ${elem}`);
    res.redirect(303, '/');
  },
});
