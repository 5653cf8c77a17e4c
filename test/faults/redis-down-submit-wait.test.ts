import { describe, expect, it } from 'vitest';
import { call } from '../api-harness';
import { createTestContext, waitFor } from '../helpers';
import { useApiOnOwnRedis } from './own-redis-api';

/**
 * `POST /jobs?wait=S` accepts the job before it waits: Redis going away during the wait must
 * not turn the answer into a 503, which says nothing was written, so that a client submits
 * the job again and it runs twice. No worker: the job stays queued.
 */
const sys = useApiOnOwnRedis(createTestContext());

describe('POST /jobs?wait=S when Redis goes away during the wait', () => {
  it('answers 202 with the accepted job, which is there once Redis is back', async () => {
    const held = call(sys.api.url, 'POST', '/jobs?wait=2', { type: 'echo', data: { once: true } });
    // Accepted (the submit's own transaction is in Redis's append-only file) before Redis goes.
    await waitFor(async () => (await call(sys.api.url, 'GET', '/jobs?type=echo')).body.jobs?.length === 1);
    await sys.redis.stop('kill');

    const r = await held;
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ type: 'echo', state: 'queued' });
    expect(r.headers.get('location')).toBe(`/jobs/${r.body.id}`);

    await sys.redis.start();
    const read = await waitFor(async () => {
      const g = await call(sys.api.url, 'GET', `/jobs/${r.body.id}`);
      return g.status === 200 ? g : undefined;
    }, 15000);
    expect(read.body).toMatchObject({ id: r.body.id, state: 'queued' });
  });
});
