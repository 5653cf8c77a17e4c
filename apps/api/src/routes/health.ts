import { HttpError, isCluster, type RedisClient } from '@async-jobs/shared';
import type { AppContext } from '../deps';
import type { HttpReply } from '../route-handler';

export const healthRoutes = (ctx: AppContext) => ({
  /** The process is up; deliberately no Redis call. */
  health(): HttpReply {
    return { body: { status: 'ok' } };
  },

  /** Redis answers: 503 while it does not, or while any master of a Cluster does not. */
  async ready(): Promise<HttpReply> {
    const notReady = () => new HttpError(503, 'unavailable', 'Redis does not answer', undefined, { 'Retry-After': '1' });
    // Both must be up: BullMQ's queues use one; submits, reads and the relay use `redis`.
    if (ctx.redis.status !== 'ready' || ctx.queueRedis.status !== 'ready') throw notReady();
    // On a Cluster one PING reaches one node, alive whatever the others are: every master
    // must answer, since jobs and their queues are spread over all of them.
    const nodes: Pick<RedisClient, 'ping'>[] = isCluster(ctx.redis) ? ctx.redis.nodes('master') : [ctx.redis];
    await Promise.all(nodes.map((n) => n.ping())).catch(() => {
      throw notReady();
    });
    return { body: { status: 'ready' } };
  },
});
