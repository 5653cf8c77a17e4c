import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from '../api-harness';
import { createTestContext, waitFor } from '../helpers';
import { ownRedis, type OwnRedis } from './redis-server';

/**
 * `POST /jobs?wait=S` accepts the job before it waits: Redis going away during the wait must
 * not turn the answer into a 503, which says nothing was written, so that a client submits
 * the job again and it runs twice. No worker: the job stays queued.
 */
const ctx = createTestContext();
let redis: OwnRedis;
let api: RunningApi;

beforeAll(async () => {
  redis = await ownRedis();
  api = await startApi(ctx, { REDIS_URL: redis.url, REDIS_CLUSTER_NODES: '' });
  await waitFor(async () => (await call(api.url, 'GET', '/readyz')).status === 200, 15000, 50);
}, 60000);

afterAll(async () => {
  await api?.close();
  await redis?.close();
  await ctx.cleanup();
});

describe('POST /jobs?wait=S when Redis goes away during the wait', () => {
  it('answers 202 with the accepted job, which is there once Redis is back', async () => {
    const held = call(api.url, 'POST', '/jobs?wait=2', { type: 'echo', data: { once: true } });
    // Accepted (the submit's own transaction is in Redis's append-only file) before Redis goes.
    await waitFor(async () => (await call(api.url, 'GET', '/jobs?type=echo')).body.jobs?.length === 1);
    await redis.stop('kill');

    const r = await held;
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ type: 'echo', state: 'queued' });
    expect(r.headers.get('location')).toBe(`/jobs/${r.body.id}`);

    await redis.start();
    const read = await waitFor(async () => {
      const g = await call(api.url, 'GET', `/jobs/${r.body.id}`);
      return g.status === 200 ? g : undefined;
    }, 15000);
    expect(read.body).toMatchObject({ id: r.body.id, state: 'queued' });
  });
});
