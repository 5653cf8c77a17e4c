import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';

const ctx = createTestContext();
let closed: RunningApi;
let configured: RunningApi;
const APP = 'https://app.example.org';

beforeAll(async () => {
  closed = await startApi(ctx);
  configured = await startApi(ctx, { CORS_ORIGINS: `${APP}, http://localhost:5173` });
});
afterAll(async () => {
  await closed.close();
  await configured.close();
  await ctx.cleanup();
});

const preflight = (api: RunningApi, origin: string, path = '/jobs') =>
  call(api.url, 'OPTIONS', path, undefined, {
    origin,
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'authorization, content-type',
  });

describe('CORS', () => {
  it('is closed by default: no preflight passes and no answer carries CORS headers', async () => {
    const pre = await preflight(closed, APP);
    expect(pre.status).toBe(403);
    expect(pre.body.error.code).toBe('forbidden');
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const get = await call(closed.url, 'GET', '/types', undefined, { origin: APP });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers the preflight of an origin in CORS_ORIGINS with what a page needs', async () => {
    const pre = await preflight(configured, APP);
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(APP);
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(pre.headers.get('vary')).toMatch(/Origin/);
    const submit = await call(configured.url, 'POST', '/jobs', { type: 'echo', data: {} }, { origin: 'http://localhost:5173' });
    expect(submit.status).toBe(202);
    expect(submit.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(submit.headers.get('access-control-expose-headers')).toMatch(/Location/);
  });

  it('refuses the preflight of any other origin, and gives its requests no CORS headers', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.org.evil.example', 'null', 'http://app.example.org']) {
      const pre = await preflight(configured, origin);
      expect(pre.status, origin).toBe(403);
      expect(pre.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
    const get = await call(configured.url, 'GET', '/types', undefined, { origin: 'https://evil.example' });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows any origin with *, without credentials', async () => {
    const any = await startApi(ctx, { CORS_ORIGINS: '*' });
    try {
      const pre = await preflight(any, 'https://whoever.example');
      expect(pre.status).toBe(204);
      expect(pre.headers.get('access-control-allow-origin')).toBe('*');
      expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    } finally {
      await any.close();
    }
  });
});
