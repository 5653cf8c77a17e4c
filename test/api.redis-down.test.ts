import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';
import { parse } from './prometheus-text';

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

  // These go through BullMQ's queues, which wait for a connection that was never up instead
  // of failing: they used to hang (GET /schedules past a minute), where the rest answer 503.
  it.each([
    ['GET', '/workers'],
    ['GET', '/schedules'],
    ['GET', '/schedules/nightly'],
    ['PUT', '/schedules/nightly', { type: 'echo', data: {}, every: 60_000 }],
    ['DELETE', '/schedules/nightly'],
    ['POST', '/types/echo/pause'],
    ['POST', '/types/echo/resume'],
    ['GET', '/admin/queues/api/queues'],
    ['GET', '/admin/queues/api/redis/stats'],
    ['PUT', '/admin/queues/api/queues/echo/pause'],
  ] as const)('answers %s %s with 503 unavailable and Retry-After, not by waiting for Redis', async (method, path, body?: unknown) => {
    const r = await guarded(method, path, body);
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('1');
    expect(await r.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
  });

  it('still answers 404 for an unknown type or a schedule name that cannot exist, and serves the Board page', async () => {
    expect((await guarded('POST', '/types/nope/pause')).status).toBe(404);
    expect((await guarded('GET', '/schedules/not%20a%20name')).status).toBe(404);
    const page = await guarded('GET', '/admin/queues');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/html/);
  });

  it('serves GET /metrics with the process metrics and without the queue depth, which needs Redis', async () => {
    const r = await guarded('GET', '/metrics');
    expect(r.status).toBe(200);
    const samples = parse(await r.text());
    expect(samples.some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'asyncjobs_longpoll_waiters')).toBe(true);
    expect(samples.filter((s) => s.name === 'asyncjobs_queue_jobs')).toEqual([]);
  });
});

/** A request with a client timeout as a guard only: a route that waits for Redis fails here rather than at the test's timeout. */
function guarded(method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method, redirect: 'manual', signal: AbortSignal.timeout(5000) };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (body !== undefined) init.headers = { 'content-type': 'application/json' };
  return fetch(api.url + path, init);
}

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
