import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import { queueOf, typeItems } from '../types/type-items';

/**
 * POST /types/:type/pause and /resume: BullMQ's own queue pause, which every worker's
 * fetch honours (running jobs finish; nothing new starts; submits are still accepted and
 * wait). Idempotent; 200 with the type's item as it is after the change.
 */
export const typePauseRoute = (ctx: AppContext, action: 'pause' | 'resume') =>
  async function pauseOrResume(req: Request, res: Response) {
    const type = String(req.params.type);
    const queue = queueOf(ctx, type);
    await (action === 'pause' ? queue.pause() : queue.resume());
    const [item] = await typeItems(ctx, [type]);
    res.json(item);
  };
