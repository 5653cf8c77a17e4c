import { assertRedisReady } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import type { RouteHandler } from '../route-handler';
import { listWorkers } from '../workers/list-workers';

/** GET /workers: the live worker processes (docs/http-api.md "GET /workers"). */
export const workersRoute =
  (ctx: AppContext): RouteHandler =>
  async () => {
    // BullMQ's registry is read through the queues, which would wait for Redis rather than fail.
    assertRedisReady(ctx.redis, ctx.queueRedis);
    return { body: { workers: await listWorkers(ctx) } };
  };
