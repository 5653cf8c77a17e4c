import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import { retryFailed } from '../types/retry-failed';
import { queuesOfType } from '../types/type-items';

/**
 * POST /types/:type/retry-failed: 202 `{ retried }` once every failed job (cancelled ones aside)
 * is queued again; a sharded type's on every shard, one shard after another.
 */
export const typeRetryFailedRoute = (ctx: AppContext) =>
  async function retryFailedOfType(req: Request, res: Response) {
    let retried = 0;
    for (const queue of queuesOfType(ctx, String(req.params.type))) retried += await retryFailed(ctx.redis, queue);
    res.status(202).json({ retried });
  };
