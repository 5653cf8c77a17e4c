import type { Request, Response } from 'express';
import type { AppContext } from '../deps';
import { listWorkers } from '../workers/list-workers';

/** GET /workers: the live worker processes (API.md "Workers"). */
export const workersRoute = (ctx: AppContext) =>
  async function listWorkersRoute(_req: Request, res: Response) {
    res.json({ workers: await listWorkers(ctx) });
  };
