import { HttpError, isCluster, nodeName } from '@async-jobs/shared';
import type { Cluster, Redis } from 'ioredis';
import type { AppContext } from '../deps';
import type { HttpReply } from '../route-handler';

/**
 * A connection to each master the slot map names, null for one without: ioredis drops a
 * node's connection once it fails (and lists only what it holds), while the slot map keeps
 * naming the master until a refresh, so a dead master shows as a missing connection.
 */
function mastersOf(cluster: Cluster): (Redis | null)[] {
  const held = new Map(cluster.nodes('master').map((n) => [nodeName(n), n]));
  const named = new Set(cluster.slots.map((nodes) => nodes?.[0]).filter((k): k is string => typeof k === 'string'));
  return [...named].map((key) => held.get(key) ?? null);
}

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
    const nodes = isCluster(ctx.redis) ? mastersOf(ctx.redis) : [ctx.redis];
    if (nodes.includes(null)) throw notReady();
    await Promise.all(nodes.map((n) => n!.ping())).catch(() => {
      throw notReady();
    });
    return { body: { status: 'ready' } };
  },
});
