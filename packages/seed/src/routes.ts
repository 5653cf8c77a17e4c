import { randomInt } from 'node:crypto';
import { assertRedisReady, type Keyspace, type Logger, type RedisClient } from '@async-jobs/shared';
import type { Request, Response } from 'express';

/** What the seed routes use of the API's context (its AppContext has these fields). */
export interface SeedRouteContext {
  keys: Keyspace;
  logger: Logger;
  /** The API's command connection. */
  redis: RedisClient;
}

/**
 * What a click answers: a plain link or form (a browser asks for HTML, curl for
 * anything) is sent back to the index page, as in the article; 303 (not 302) so that
 * a POST comes back as a GET. A script that asks for JSON gets what was sent, and its
 * page stays as it is.
 */
function answer(req: Request, res: Response, sent: object): void {
  res.vary('Accept');
  if (req.accepts(['html', 'json']) === 'json') res.json(sent);
  else res.redirect(303, '/');
}

/**
 * Express serves HEAD with the GET handler. HEAD must change nothing (link checkers and
 * monitors send it), so it gets the answer's headers without the push or the publish.
 */
const isHead = (req: Request) => req.method === 'HEAD';

/** The two Redis queues of the seed article: a click pushes or publishes one random digit. */
export const seedRoutes = (ctx: SeedRouteContext) => ({
  /** Producer-consumer: one element on the list, taken by exactly one listener (BLPOP). */
  async prodcons(req: Request, res: Response) {
    assertRedisReady(ctx.redis);
    if (isHead(req)) return answer(req, res, {});
    const elem = randomInt(10);
    const length = await ctx.redis.lpush(ctx.keys.prodconsList, elem);
    ctx.logger.info({ list: ctx.keys.prodconsList, elem, length }, `lpush ${ctx.keys.prodconsList} -- ${elem}`);
    answer(req, res, { pushed: elem, list: ctx.keys.prodconsList, length });
  },

  /** Publish-subscribe: one message, seen by every listener subscribed right now (and lost if none is). */
  async pubsub(req: Request, res: Response) {
    assertRedisReady(ctx.redis);
    if (isHead(req)) return answer(req, res, {});
    const elem = randomInt(10);
    const receivers = await ctx.redis.publish(ctx.keys.pubsubChannel, String(elem));
    ctx.logger.info({ channel: ctx.keys.pubsubChannel, elem, receivers }, `publish ${ctx.keys.pubsubChannel} -- ${elem}`);
    answer(req, res, { published: elem, channel: ctx.keys.pubsubChannel, receivers });
  },
});
