import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import { typeItems } from '../types/type-items';

/** GET /types: every registered type, with its paused flag, limits and counts from BullMQ. */
export const typeListRoute = (ctx: AppContext) =>
  async function listTypes(_req: Request, res: Response) {
    res.json({ types: await typeItems(ctx) });
  };
