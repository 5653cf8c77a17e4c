import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startApi, type RunningApi } from './api-harness';
import { createTestContext } from './helpers';

const ctx = createTestContext();
let api: RunningApi;
const TOKEN = 'tok-correct-horse';

beforeAll(async () => {
  api = await startApi(ctx, { API_TOKENS: `other-token, ${TOKEN}` });
});
afterAll(async () => {
  await api.close();
  await ctx.cleanup();
});

const job = { type: 'echo', data: { a: 1 } };

describe('API_TOKENS', () => {
  it('returns 401 with WWW-Authenticate when the token is missing, and writes nothing', async () => {
    const r = await call(api.url, 'POST', '/jobs', job);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('unauthorized');
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await ctx.requestKeys()).toEqual([]);
  });

  it('returns 401 for a wrong token of any length', async () => {
    for (const t of ['x', TOKEN.slice(0, -1), `${TOKEN}x`]) {
      const r = await call(api.url, 'POST', '/jobs', job, { authorization: `Bearer ${t}` });
      expect(r.status).toBe(401);
    }
  });

  it('accepts any configured token', async () => {
    for (const t of [TOKEN, 'other-token']) {
      const r = await call(api.url, 'POST', '/jobs', job, { authorization: `Bearer ${t}` });
      expect(r.status).toBe(202);
      const got = await call(api.url, 'GET', `/jobs/${r.body.id}`, undefined, { authorization: `Bearer ${t}` });
      expect(got.status).toBe(200);
    }
  });

  it('guards reads and /types too', async () => {
    expect((await call(api.url, 'GET', '/types')).status).toBe(401);
    expect((await call(api.url, 'GET', '/jobs/anything')).status).toBe(401);
    expect((await call(api.url, 'GET', '/jobs/anything/result')).status).toBe(401);
  });

  it('leaves /healthz and /readyz open', async () => {
    expect((await call(api.url, 'GET', '/healthz')).status).toBe(200);
    expect((await call(api.url, 'GET', '/readyz')).status).toBe(200);
  });
});
