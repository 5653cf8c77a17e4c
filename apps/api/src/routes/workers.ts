import type { AppContext } from '../deps';
import type { RouteHandler } from '../route-handler';
import { listWorkers } from '../workers/list-workers';

/** GET /workers: the live worker processes (API.md "Workers"). */
export const workersRoute =
  (ctx: AppContext): RouteHandler =>
  async () => ({ body: { workers: await listWorkers(ctx) } });
