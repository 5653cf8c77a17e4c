import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';

const ctx = createTestContext();
let api: RunningApi;

/** A port with nothing listening: bind one, note it, close it. */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

beforeAll(async () => {
  api = await startApi(ctx, { REDIS_URL: `redis://127.0.0.1:${await deadPort()}` });
});
afterAll(async () => {
  await api.close();
  await ctx.cleanup();
});

describe('when Redis cannot be reached', () => {
  it('answers POST /jobs with 503 unavailable and Retry-After, well within 5 s', async () => {
    const started = Date.now();
    const r = await call(api.url, 'POST', '/jobs', { type: 'echo', data: {} });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('unavailable');
    expect(r.headers.get('retry-after')).toBeTruthy();
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('answers reads with 503, /readyz with 503 and /healthz with 200', async () => {
    expect((await call(api.url, 'GET', '/jobs/abc')).status).toBe(503);
    expect((await call(api.url, 'GET', '/readyz')).status).toBe(503);
    expect((await call(api.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('still rejects bad input with 4xx before touching Redis', async () => {
    const r = await call(api.url, 'POST', '/jobs', { type: 'sleep', data: { ms: 'long' } });
    expect(r.status).toBe(400);
  });
});

// The API's two command connections (AppDeps): BullMQ's queues use one, submits and reads the other.
describe("when only the queues' connection is down", () => {
  const live = createTestContext();
  let up: RunningApi;
  let id: string;
  beforeAll(async () => {
    up = await startApi(live);
    const r = await call(up.url, 'POST', '/jobs', { type: 'echo', data: {} });
    expect(r.status).toBe(202);
    id = r.body.id;
    const ended = new Promise((r) => up.context.queueRedis.once('end', r));
    up.context.queueRedis.disconnect();
    await ended;
  });
  afterAll(async () => {
    await up.close();
    await live.cleanup();
  });

  it('answers what goes through a queue (pausing a type) with 503 unavailable at once, and /readyz with 503', async () => {
    const started = Date.now();
    const r = await call(up.url, 'POST', '/types/echo/pause');
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await call(up.url, 'GET', '/readyz')).status).toBe(503);
    expect(await live.redis.hget(`${live.keys.prefixOf('echo')}:echo:meta`, 'paused')).toBeNull();
  });

  it('still accepts submits and answers reads of a job, which do not use it', async () => {
    const r = await call(up.url, 'POST', '/jobs', { type: 'echo', data: { n: 1 } });
    expect(r.status).toBe(202);
    expect(await live.redis.hget(live.keys.job('echo', r.body.id), 'data')).toBe('{"n":1}');
    const read = await call(up.url, 'GET', `/jobs/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(id);
  });
});
