import { afterAll, beforeAll } from 'vitest';
import { call, startApi, type RunningApi } from '../api-harness';
import { waitFor, type TestContext } from '../helpers';
import { ownRedis, type OwnRedis } from './redis-server';

/**
 * An API in the test's own process on a redis-server the test owns (and may stop, start or
 * empty), ready before the file's tests; closed, with its Redis, after them.
 */
export function useApiOnOwnRedis(ctx: TestContext): { redis: OwnRedis; api: RunningApi } {
  const sys = {} as { redis: OwnRedis; api: RunningApi };
  beforeAll(async () => {
    sys.redis = await ownRedis();
    sys.api = await startApi(ctx, { REDIS_URL: sys.redis.url, REDIS_CLUSTER_NODES: '' });
    await waitFor(async () => (await call(sys.api.url, 'GET', '/readyz')).status === 200, 15000, 50);
  }, 60000);
  afterAll(async () => {
    await sys.api?.close();
    await sys.redis?.close();
    await ctx.cleanup();
  });
  return sys;
}
