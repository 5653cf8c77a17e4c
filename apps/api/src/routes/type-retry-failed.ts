import type { AppContext } from '../deps';
import type { RouteHandler } from '../route-handler';
import { retryFailed } from '../types/retry-failed';
import { queuesOfType } from '../types/type-items';

/**
 * POST /types/:type/retry-failed: 202 `{ retried }` once every failed job (cancelled ones aside)
 * is queued again; a sharded type's on every shard, one shard after another.
 */
export const typeRetryFailedRoute =
  (ctx: AppContext): RouteHandler =>
  async (req) => {
    let retried = 0;
    for (const queue of queuesOfType(ctx, String(req.params.type))) retried += await retryFailed(ctx.redis, queue);
    return { status: 202, body: { retried } };
  };
