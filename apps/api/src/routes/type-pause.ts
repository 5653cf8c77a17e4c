import { assertRedisReady } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import type { RouteHandler } from '../route-handler';
import { queuesOfType, typeItems } from '../types/type-items';

/**
 * POST /types/:type/pause and /resume: BullMQ's own queue pause, which every worker's
 * fetch honours (running jobs finish; nothing new starts; submits are still accepted and
 * wait). Idempotent; 200 with the type's item as it is after the change. A sharded type is
 * paused or resumed on every shard.
 */
export const typePauseRoute =
  (ctx: AppContext, action: 'pause' | 'resume'): RouteHandler =>
  async (req) => {
    const type = String(req.params.type);
    const queues = queuesOfType(ctx, type);
    // An unknown type is 404 whatever Redis does; a queue would wait for Redis rather than fail.
    assertRedisReady(ctx.redis, ctx.queueRedis);
    await Promise.all(queues.map((q) => (action === 'pause' ? q.pause() : q.resume())));
    const [item] = await typeItems(ctx, [type]);
    return { body: item };
  };
