import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import type { MasterSlots } from './cluster-masters';

/** Fails the run at once, with a clear message, when the Redis the tests need is not there. */
export default async function setup(project: TestProject) {
  const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  await check(url, 'PING', (r) => r === 'PONG', `tests need Redis at ${url} (set TEST_REDIS_URL)`);
  // `npm run test:cluster`: the cluster must be formed, not just its nodes up.
  const seeds = process.env.TEST_REDIS_CLUSTER_NODES;
  if (seeds) {
    const first = `redis://${seeds.split(',')[0]}`;
    await check(
      first,
      'CLUSTER INFO',
      (r) => /cluster_state:ok/.test(String(r)),
      `tests need a Redis Cluster at ${seeds} (start one with scripts/cluster-up.sh)`,
    );
  }
  // Which master serves which slots, so test contexts can place queue groups on different masters.
  project.provide('clusterMasters', seeds ? await masterSlots(`redis://${seeds.split(',')[0]}`) : []);
}

/** CLUSTER SLOTS as `{ start, end, master }` ranges, `master` the node's index in first-seen order. */
async function masterSlots(url: string): Promise<MasterSlots[]> {
  const redis = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    const reply = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
    const ids: string[] = [];
    return reply.map(([start, end, [, , id]]) => {
      if (!ids.includes(id)) ids.push(id);
      return { start, end, master: ids.indexOf(id) };
    });
  } finally {
    redis.disconnect();
  }
}

async function check(url: string, command: string, ok: (reply: unknown) => boolean, need: string) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    const [name, ...args] = command.split(' ');
    const reply = await redis.call(name, ...args);
    if (!ok(reply)) throw new Error(`${command} answered ${String(reply).split('\n')[0].trim()}`);
  } catch (err) {
    throw new Error(`${need}: ${(err as Error).message}`);
  } finally {
    redis.disconnect();
  }
}
