import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import { retryFailed } from '../types/retry-failed';
import { queueOf } from '../types/type-items';

/** POST /types/:type/retry-failed: 202 `{ retried }` once every failed job (cancelled ones aside) is queued again. */
export const typeRetryFailedRoute = (ctx: AppContext) =>
  async function retryFailedOfType(req: Request, res: Response) {
    const queue = queueOf(ctx, String(req.params.type));
    res.status(202).json({ retried: await retryFailed(ctx.redis, queue) });
  };
