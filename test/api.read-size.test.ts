import type { Redis } from 'ioredis';
import { isCluster } from '@async-jobs/shared';
import { describe, expect, it } from 'vitest';
import { call } from './api-harness';
import { useApi } from './system-harness';

/*
 * A job's input can be as large as a request body, and no read shows it: reading a job
 * (GET, a long-poll's answer, a listing) must not bring it from Redis each time.
 */
const sys = useApi();

/** Bytes the API's command connection has received from Redis so far (every node's, on a Cluster). */
function bytesFromRedis(): number {
  const conn = sys.api.context.redis;
  const nodes = isCluster(conn) ? conn.nodes() : [conn as Redis];
  return nodes.reduce((sum, n) => sum + (n.stream?.bytesRead ?? 0), 0);
}

describe('reading a job with a large input', () => {
  it('does not bring the input from Redis: a read, a long-poll answer and a listing stay small', async () => {
    const text = 'x'.repeat(300_000);
    const sub = await call(sys.api.url, 'POST', '/jobs', { type: 'hash', data: { text } });
    expect(sub.status).toBe(202);
    const id = sub.body.id as string;

    const before = bytesFromRedis();
    const read = await call(sys.api.url, 'GET', `/jobs/${id}`);
    const poll = await call(sys.api.url, 'GET', `/jobs/${id}/result?wait=0`);
    const list = await call(sys.api.url, 'GET', '/jobs?type=hash&limit=10');
    const received = bytesFromRedis() - before;

    expect(read.body).toMatchObject({ id, type: 'hash', state: 'queued', attempts: { made: 0, max: 3 } });
    expect(poll.status).toBe(202);
    expect(list.body.jobs.map((j: { id: string }) => j.id)).toContain(id);
    // Three reads of the job: each would carry the 300 KB input if the whole hash were read.
    expect(received).toBeLessThan(30_000);
  });
});
