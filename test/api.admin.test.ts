import { afterAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';

const ctx = createTestContext();
const running: RunningApi[] = [];
afterAll(async () => {
  await Promise.all(running.map((a) => a.close()));
  await ctx.cleanup();
});

const start = async (env: Record<string, string>) => {
  const api = await startApi(ctx, env);
  running.push(api);
  return api;
};
const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });

describe('Bull Board at /admin/queues', () => {
  it('answers without credentials on loopback when ADMIN_PASSWORD is empty, listing one queue per type and the callbacks queue', async () => {
    const api = await start({});
    const page = await call(api.url, 'GET', '/admin/queues');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/html/);
    const queues = await call(api.url, 'GET', '/admin/queues/api/queues');
    expect(queues.status).toBe(200);
    const names = queues.body.queues.map((q: { name: string }) => q.name).sort();
    expect(names).toEqual(['callbacks', 'echo', 'hash', 'http.request', 'sleep']);
  });

  it('asks for credentials when ADMIN_PASSWORD is set', async () => {
    const api = await start({ ADMIN_USERNAME: 'ops', ADMIN_PASSWORD: 's3cret' });
    const anon = await call(api.url, 'GET', '/admin/queues');
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await call(api.url, 'GET', '/admin/queues', undefined, basic('ops', 'wrong'))).status).toBe(401);
    expect((await call(api.url, 'GET', '/admin/queues', undefined, basic('admin', 's3cret'))).status).toBe(401);
    expect((await call(api.url, 'GET', '/admin/queues', undefined, basic('ops', 's3cret'))).status).toBe(200);
    expect((await call(api.url, 'GET', '/admin/queues/api/queues', undefined, basic('ops', 's3cret'))).status).toBe(200);
  });
});
